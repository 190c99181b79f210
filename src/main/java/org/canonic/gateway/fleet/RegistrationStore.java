package org.canonic.gateway.fleet;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Where the backends registered through the admin API, and the order of every route, are kept: the state directory
 * ({@link FileRegistrationStore}, one replica) or Redis ({@link RedisRegistrationStore}, shared by every replica,
 * which then also tells the others). Never a key, only references to keys.
 */
public interface RegistrationStore {

    /** What the store holds. */
    record Contents(List<BackendRegistration> backends, Map<String, List<String>> routeOrder) {
        static final Contents EMPTY = new Contents(List.of(), Map.of());
    }

    /** Reads the registrations; one that cannot be read adds a problem. */
    Contents load(List<String> problems);

    /**
     * Stores this replica's registrations and route orders after a change.
     *
     * @throws IOException when they could not be stored (the change is then undone); a shared store that does not
     *                     answer throws {@link org.canonic.gateway.state.StateStoreUnavailable} instead
     */
    void save(List<BackendRegistration> backends, Map<String, List<String>> routeOrder) throws IOException;

    /**
     * True when the last {@link #load} found the shared registry gone although it had been seen (the shared store
     * lost its data): the replica then stores what it knows again rather than deregistering everything.
     */
    default boolean lost() {
        return false;
    }
}
