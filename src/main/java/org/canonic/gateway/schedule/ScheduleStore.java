package org.canonic.gateway.schedule;

import java.util.List;
import java.util.function.Function;

/**
 * Where the schedule is kept: {@code schedule.json} in the state directory ({@link FileScheduleStore}, one replica)
 * or Redis ({@link RedisScheduleStore}, shared by every replica). Every change is a read-decide-write that is stored
 * only if nobody changed the schedule between the read and the write, so two replicas never both take the last free
 * place, both book one backend for overlapping maintenance, or both start one window.
 */
public interface ScheduleStore {

    /**
     * What a decision stores: entries to put (new, or replacing the one with the same id) and ids to delete, and what
     * the caller gets back.
     */
    record Change<T>(T result, List<ScheduleEntry> put, List<String> delete) {

        /** Nothing to store, only an answer. */
        public static <T> Change<T> none(T result) {
            return new Change<>(result, List.of(), List.of());
        }

        public boolean empty() {
            return put.isEmpty() && delete.isEmpty();
        }
    }

    /** Every entry as stored now, in no particular order. */
    List<ScheduleEntry> read();

    /**
     * Reads the entries, lets {@code decide} choose a change, and stores it if the schedule did not change meanwhile;
     * otherwise reads and decides again (a few times). {@code decide} must have no side effect: it may run more than
     * once. An exception it throws ends the update with nothing stored.
     *
     * @throws org.canonic.gateway.coordination.CoordinationUnavailable when the state directory cannot be written
     * @throws org.canonic.gateway.state.StateStoreUnavailable           when Redis does not answer
     */
    <T> T update(Function<List<ScheduleEntry>, Change<T>> decide);

    /** Where the entries live, for messages (never credentials). */
    String where();
}
