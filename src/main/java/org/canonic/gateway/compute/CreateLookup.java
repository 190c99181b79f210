package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a create that failed ambiguously left behind, found by the launch's label. A provider can create and then
 * answer 500 or 502, or answer after the gateway stopped waiting, and its list can lag the create by seconds: so an
 * empty list right after the error proves nothing. The launch keeps its reservation and stays {@code provisioning}
 * while its label is looked up, right away and then on every watch tick, for {@code create-lookup-window}: one
 * instance with the label is adopted (it waits for readiness like any new one), every other one is destroyed. Only
 * when the window has passed and a list that worked still shows nothing is the launch closed as never created and
 * its reservation released. A list that fails never closes it. An instance that shows up with the label even later
 * is not matched by anything tracked, so the leak watch reports it.
 */
final class CreateLookup {

    private static final Logger LOG = Logger.getLogger(CreateLookup.class);

    private enum Found { ADOPTED, NOTHING, UNKNOWN }

    private final ComputeService s;

    CreateLookup(ComputeService service) {
        this.s = service;
    }

    /**
     * Whether a create that threw certainly never reached the provider: no API key, or no connection at all. Any
     * other failure (an answer that is not 2xx, a timeout, a connection that broke) may have created the machine.
     */
    static boolean neverSent(ComputeException e) {
        return "provider_not_configured".equals(e.code())
                || "provider_unreachable".equals(e.code()) && e.status() == 503;
    }

    /**
     * Right after an ambiguous create: records it, then looks the label up once (and the id the error named, if
     * any). Returns true when an instance was found and adopted; otherwise the launch is left to the watch, with
     * the reason in its {@code message}.
     */
    boolean afterAmbiguousCreate(TrackedInstance t, ComputeProvider p, ComputeException failure, String caller,
                                 Long fencing) {
        String named = failure.details() != null && failure.details().hasNonNull("new_contract")
                ? failure.details().get("new_contract").asText() : null;
        long until = s.clock.millis() + s.config.createLookupWindow().toMillis();
        ObjectNode line = s.tracked.record(caller, t, "provision", fencing);
        line.put("failure", failure.getMessage());
        line.put("lookup_until", Instant.ofEpochMilli(until).toString());
        s.tracked.append(line, failure.code(), failure.getMessage(), TrackedInstance.State.PROVISIONING);
        if (look(t, p, named, caller, fencing) == Found.ADOPTED) {
            return true;
        }
        s.states.update(t, i -> {
            i.message = failure.getMessage() + " Whether it was created is not known yet: its $"
                    + CostGuard.usd(t.estimateCents()) + " reservation is kept and the gateway looks for an instance"
                    + " labelled " + t.name() + " until " + Instant.ofEpochMilli(until) + ", then adopts it or"
                    + " closes the launch as never created.";
            // From here on the watch looks (it only takes launches with a deadline): never two lookups at once.
            i.lookupUntilMs = until;
        });
        return false;
    }

    /** A watch tick for a launch still looked up; called under the handover's action monitor. */
    void lookAgain(TrackedInstance t) {
        if (t.state() != TrackedInstance.State.PROVISIONING || t.lookupUntilMs == 0) {
            return;
        }
        ComputeProvider p = s.provider(t.provider());
        Found found = look(t, p, null, ComputeWatch.SYSTEM, null);
        if (found == Found.NOTHING && s.clock.millis() >= t.lookupUntilMs) {
            close(t, p);
        } else if (found == Found.NOTHING) {
            s.states.note(t, "launch not resolved yet: no instance labelled " + t.name() + " at " + p.name()
                    + " so far; looking until " + Instant.ofEpochMilli(t.lookupUntilMs) + " (the list can lag)");
        }
    }

    private Found look(TrackedInstance t, ComputeProvider p, String named, String caller, Long fencing) {
        List<InstanceInfo> matches;
        try {
            matches = new ArrayList<>(p.list().stream().filter(i -> t.name().equals(i.label())).toList());
            if (named != null && matches.stream().noneMatch(i -> named.equals(i.id()))) {
                // The error named what it created; the list may not show it yet.
                p.get(named).ifPresent(matches::add);
            }
        } catch (ComputeException e) {
            s.states.note(t, "launch not resolved yet: " + p.name() + " could not be listed (" + e.getMessage()
                    + "); looking again");
            return Found.UNKNOWN;
        }
        if (matches.isEmpty()) {
            return Found.NOTHING;
        }
        adopt(t, p, matches, named, caller, fencing);
        return Found.ADOPTED;
    }

    /** One instance becomes the launch's (the one the error named, else the first listed); the others go. */
    private void adopt(TrackedInstance t, ComputeProvider p, List<InstanceInfo> matches, String named, String caller,
                       Long fencing) {
        InstanceInfo keep = matches.stream().filter(i -> i.id().equals(named)).findFirst().orElse(matches.get(0));
        long now = s.clock.millis();
        s.states.update(t, i -> {
            i.providerId = keep.id();
            i.lookupUntilMs = 0;
            i.message = null;
        });
        s.states.waiting(t, now + s.config.readinessDeadline().toMillis());
        s.tracked.append(s.tracked.record(caller, t, "adopt", fencing), "ok", null, TrackedInstance.State.WAITING);
        LOG.warnf("Compute: launch %s found at %s as %s and adopted", t.name(), p.name(), keep.id());
        for (InstanceInfo extra : matches) {
            if (extra != keep) {
                destroyDuplicate(t, p, extra.id(), caller, fencing);
            }
        }
    }

    /** A second machine under the launch's label bills for nothing the gateway asked for. */
    private void destroyDuplicate(TrackedInstance t, ComputeProvider p, String id, String caller, Long fencing) {
        ObjectNode intent = s.tracked.record(caller, t, "destroy_duplicate", fencing);
        intent.put("duplicate_id", id);
        s.tracked.append(intent, "intent", null, t.state());
        ObjectNode outcome = s.tracked.record(caller, t, "destroy_duplicate", fencing);
        outcome.put("duplicate_id", id);
        try {
            p.destroy(id);
            s.tracked.append(outcome, "ok", null, t.state());
            LOG.warnf("Compute: %s had a second instance %s at %s; destroyed", t.name(), id, p.name());
        } catch (ComputeException e) {
            s.tracked.append(outcome, e.code(), e.getMessage(), t.state());
            LOG.errorf("Compute: the second instance %s of %s could not be destroyed (%s); the leak watch reports it"
                    + " while it bills", id, t.name(), e.getMessage());
        }
    }

    private void close(TrackedInstance t, ComputeProvider p) {
        s.states.update(t, i -> {
            i.lookupUntilMs = 0;
            i.message = null;
            i.failure = "no instance labelled " + t.name() + " appeared at " + p.name() + " within the lookup window ("
                    + s.config.createLookupWindow().toSeconds() + " s): closed as never created";
        });
        s.states.move(t, TrackedInstance.State.DESTROYED);
        s.settle(t, 0);
        s.keys.delete(t.name());
        ObjectNode line = s.tracked.record(ComputeWatch.SYSTEM, t, "adopt", null);
        line.put("failure", t.failure);
        s.tracked.append(line, "not_found", null, TrackedInstance.State.DESTROYED);
        LOG.warnf("Compute: launch %s: %s", t.name(), t.failure);
    }
}
