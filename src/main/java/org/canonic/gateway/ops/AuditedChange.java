package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.Locked;
import org.canonic.gateway.coordination.MaintenanceLock;
import org.canonic.gateway.state.StateStoreUnavailable;

import java.util.function.Function;

/**
 * How every admin change is made: under the maintenance lock (423 while someone else holds it; the check and the
 * change are one step) and written to the audit log with what it changed before and after. A refusal (the lock, bad
 * input, a provider that said no) is audited with its code, best effort: it changed nothing.
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
     * @param target  what is changed, or null when the change itself names it ({@code targetOf} reads the answer)
     * @param before  the target's view before the change (null for something new)
     * @param change  the change, given the fencing number of the lock it runs under (null without a lock)
     * @param refusal the answer for an exception that is an expected refusal, or null for one that is not
     */
    public Response make(String action, String target, String actor, String lockToken, JsonNode before,
                         Function<Long, Response> change, Function<RuntimeException, Refused> refusal,
                         Function<JsonNode, String> targetOf) {
        String caller = AuditLog.caller(actor);
        try {
            return lock.guarded(lockToken, guard -> {
                Response response;
                try {
                    response = change.apply(guard.fencing());
                } catch (RuntimeException e) {
                    Refused refused = refusal.apply(e);
                    if (refused == null) {
                        throw e;
                    }
                    audit.recordRefusal(caller, action, target, before, refused.code(), guard.fencing());
                    return refused.answer();
                }
                JsonNode after = mapper.valueToTree(response.getEntity());
                audit.record(caller, action, target != null ? target : targetOf.apply(after), before, after,
                        AuditLog.OK, guard.fencing());
                return response;
            });
        } catch (Locked e) {
            audit.recordRefusal(caller, action, target, before, Locked.CODE, null);
            throw e;
        } catch (StateStoreUnavailable e) {
            // Refused before anything changed: the shared store could not confirm the lock.
            audit.recordRefusal(caller, action, target, before, StateStoreUnavailable.CODE, null);
            throw e;
        }
    }
}
