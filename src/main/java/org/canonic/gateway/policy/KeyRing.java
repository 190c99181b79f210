package org.canonic.gateway.policy;

/**
 * Where the key check finds the keys it accepts: read afresh for every request, so that keys added to the key file
 * or made through the admin API are accepted, and removed ones refused, without a restart (requests already admitted
 * finish: they were checked when they arrived).
 */
public interface KeyRing {

    /** The keys accepted now. */
    ClientKeys current();

    /** A request authenticated with this key id (for its last-use time); cheap, called on the request path. */
    default void used(String keyId) {
    }

    /** A fixed set of keys. */
    static KeyRing of(ClientKeys keys) {
        return () -> keys;
    }
}
