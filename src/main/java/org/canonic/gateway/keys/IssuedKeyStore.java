package org.canonic.gateway.keys;

import java.util.List;
import java.util.Map;

/**
 * Where the keys made through the admin API are kept: {@code client-keys.json} in the state directory
 * ({@link FileIssuedKeyStore}, one replica) or Redis ({@link RedisIssuedKeyStore}, shared by every replica, so a key
 * made or deleted on one is honoured or refused on all). Only SHA-256 digests are stored, never a key.
 */
public interface IssuedKeyStore {

    /** The keys as stored now, and a version that changes with every change (to re-read only when it moved). */
    record Contents(String version, List<IssuedKey> keys) {
    }

    Contents load();

    /** The current version, cheaply (one read): unchanged means {@link #load()} would answer the same keys. */
    String version();

    /** Stores a new key; false when its id is taken already (nothing stored). */
    boolean add(IssuedKey key);

    /** Removes a key; false when there was none with this id. */
    boolean remove(String id);

    /** Adds the last-use times (epoch ms) seen by this replica; an older time never replaces a newer one. */
    void recordUse(Map<String, Long> lastUsed);

    /** The last-use times (epoch ms) by key id, as stored (of every key, from every replica). */
    Map<String, Long> lastUsed();

    /** Where the keys live, for messages (never credentials). */
    String where();
}
