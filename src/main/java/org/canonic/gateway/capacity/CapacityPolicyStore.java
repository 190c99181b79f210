package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;

/**
 * Where policies set through the admin API are kept: {@code capacity-policies.json} in the state directory
 * ({@link FileCapacityPolicyStore}, one process, kept across a restart) or Redis ({@link RedisCapacityPolicyStore},
 * shared by every replica). Each recipe's document is the policy as {@code GET} shows it, or
 * {@code {"recipe":...,"removed":true}} for one deleted through the API (so that a configured policy stays away after
 * a restart too). Every write is a compare-and-set on the version the writer read, so a PUT decided on a stale view
 * is decided again.
 */
public interface CapacityPolicyStore {

    /** The stored documents by recipe, and the version they were read at. */
    record Snapshot(String version, Map<String, JsonNode> policies) {
    }

    /** The documents as stored now (a copy refreshed only when the version moved). */
    Snapshot read();

    /**
     * Stores {@code document} for {@code recipe} if the version is still {@code expected}.
     *
     * @return false when another change came first (nothing was written)
     */
    boolean write(String expected, String recipe, JsonNode document);

    /** Where the policies live, for messages (never credentials). */
    String where();
}
