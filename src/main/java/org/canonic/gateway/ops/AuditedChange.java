package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.CoordinationUnavailable;
import org.canonic.gateway.coordination.Locked;
import org.canonic.gateway.coordination.MaintenanceLock;
import org.canonic.gateway.state.StateStoreUnavailable;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * How every admin change is made: under the maintenance lock (423 while someone else holds it; the check and the
 * change are one step) and written to the audit log with what it changed before and after, both or neither: the
 * line's place in the log is written before the change and the line into it after. A refusal (bad input, a provider
 * that said no) takes that place with its code; one by the lock itself is audited best effort: it changed nothing.
 */
@Singleton
public class AuditedChange {

    /** What a refused change answers, and the code the audit log keeps. */
    public record Refused(String code, Response answer) {
    }

    @Inject
    MaintenanceLock lock;

    @Inject
    AuditLog audit;

    @Inject
    ObjectMapper mapper;

    /**
     * Makes one change: under the lock, its audit line's place is taken first ({@link AuditLog#reserve}: an audit
     * log that cannot be written answers 503 {@code audit_unavailable} and nothing changes), then the change is
     * made, then its line is written into that place, which cannot run out of room. Both or neither.
     *
     * @param target  what is changed, or null when the change itself names it ({@code targetOf} reads the answer)
     * @param before  the target's view before the change (null for something new)
     * @param change  the change, given the fencing number of the lock it runs under (null without a lock)
     * @param refusal the answer for an exception that is an expected refusal, or null for one that is not
     */
    public Response make(String action, String target, String actor, String lockToken, JsonNode before,
                         Function<Long, Response> change, Function<RuntimeException, Refused> refusal,
                         Function<JsonNode, String> targetOf) {
        String caller = AuditLog.caller(actor);
        AtomicBoolean reserved = new AtomicBoolean();
        try {
            return lock.guarded(lockToken, guard -> {
                // The line's place first: an audit log that cannot take it refuses the change before it is made.
                AuditLog.Reservation line = audit.reserve(caller, action, target, before, guard.fencing());
                reserved.set(true);
                Response response;
                try {
                    response = change.apply(guard.fencing());
                } catch (RuntimeException e) {
                    Refused refused = refusal.apply(e);
                    audit.complete(line, null, null, refused != null ? refused.code() : failure(e));
                    if (refused == null) {
                        throw e;
                    }
                    return refused.answer();
                } catch (Error e) {
                    audit.complete(line, null, null, "failed");
                    throw e;
                }
                JsonNode after;
                try {
                    after = mapper.valueToTree(response.getEntity());
                } catch (RuntimeException e) {
                    // Made, but not viewable as JSON (a bug): the line still says it was made.
                    after = null;
                }
                String named = target != null || after == null ? null : targetOf.apply(after);
                audit.complete(line, named, after, AuditLog.OK);
                return response;
            });
        } catch (Locked e) {
            audit.recordRefusal(caller, action, target, before, Locked.CODE, null);
            throw e;
        } catch (StateStoreUnavailable e) {
            if (!reserved.get()) {
                // Refused before anything changed: the shared store could not confirm the lock.
                audit.recordRefusal(caller, action, target, before, StateStoreUnavailable.CODE, null);
            }
            throw e;
        }
    }

    /** The result an unexpected failure of a change is recorded with: its code when it has one. */
    private static String failure(RuntimeException e) {
        if (e instanceof CoordinationUnavailable unavailable) {
            return unavailable.code();
        }
        if (e instanceof StateStoreUnavailable) {
            return StateStoreUnavailable.CODE;
        }
        return "failed";
    }
}
