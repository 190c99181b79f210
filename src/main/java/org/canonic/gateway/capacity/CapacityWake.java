package org.canonic.gateway.capacity;

import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.routing.WakeOnDemand;
import org.jboss.logging.Logger;

import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.LongSupplier;

/**
 * Wake on demand for the request path: a request for a route with a capacity policy and no routable backend asks the
 * {@link CapacityController} (on a worker: it may call providers) whether capacity is coming, and when. Concurrent
 * requests share one question per policy: a burst costs one decision and at most one launch. A promise is never
 * reused for a later request (the route may have served and gone back to zero since: what was promised then is
 * stale); the next question is cheap, since a launch under way is answered from the tracked instances. A refusal is
 * kept {@value #REFUSAL_HOLDS_MS} ms (until the fleet changes or a new policy), so a route the policy may not wake
 * does not ask the providers on every request.
 */
public final class CapacityWake implements WakeOnDemand {

    private static final Logger LOG = Logger.getLogger(CapacityWake.class);
    static final long REFUSAL_HOLDS_MS = 10_000;
    /** Told when the expected time has passed and the capacity is still starting. */
    static final long OVERDUE_SECONDS = 5;

    private final CapacityController controller;
    private final Executor blocking;
    private final LongSupplier fleetVersion;

    /**
     * @param blocking     runs the controller's decision off the event loop
     * @param fleetVersion the fleet snapshot's version, read without blocking
     */
    public CapacityWake(CapacityController controller, Executor blocking, LongSupplier fleetVersion) {
        this.controller = controller;
        this.blocking = blocking;
        this.fleetVersion = fleetVersion;
    }

    @Override
    public CompletionStage<OptionalLong> wake(String route) {
        CapacityPolicy policy = controller.forRoute(route);
        if (policy == null) {
            return null;
        }
        PolicyState st = controller.state(policy.recipe());
        long now = System.currentTimeMillis();
        if (now < st.wakeRefusedUntilMs && st.wakeFleetVersion == fleetVersion.getAsLong()) {
            return CompletableFuture.completedFuture(OptionalLong.empty());
        }
        CompletableFuture<OptionalLong> mine = new CompletableFuture<>();
        CompletableFuture<OptionalLong> asking = st.wakeAsking.compareAndExchange(null, mine);
        if (asking != null) {
            return asking;
        }
        try {
            blocking.execute(() -> decide(policy, st, mine));
        } catch (RuntimeException e) {
            st.wakeAsking.set(null);
            mine.complete(OptionalLong.empty());
        }
        return mine;
    }

    private void decide(CapacityPolicy policy, PolicyState st, CompletableFuture<OptionalLong> mine) {
        long readyAt = -1;
        long version = fleetVersion.getAsLong();
        try {
            readyAt = readyAt(policy).orElse(-1);
        } catch (RuntimeException e) {
            LOG.errorf("Capacity: waking %s: %s", policy.recipe(), e.toString());
        }
        long now = System.currentTimeMillis();
        st.wakeFleetVersion = version;
        st.wakeRefusedUntilMs = readyAt >= 0 ? -1 : now + REFUSAL_HOLDS_MS;
        st.wakeAsking.set(null);
        mine.complete(answer(readyAt, now));
    }

    /**
     * A request for the policy's route found no backend to serve it: on the leader, a decision now (which launches
     * without waiting for a window, see {@code CapacityController.decide}); elsewhere, or while the leader is deciding
     * already, the demand is left for it and this replica says whether a scale-out would launch. Blocking.
     *
     * @return when the capacity is expected ready (epoch ms, wall clock), or empty when none will come now
     */
    OptionalLong readyAt(CapacityPolicy p) {
        PolicyState st = controller.state(p.recipe());
        controller.demand(st);
        OptionalLong under = underWay(p.recipe());
        if (under.isPresent()) {
            return under;
        }
        if (controller.decideNow(p, st)) {
            return underWay(p.recipe());
        }
        return controller.passDemand(p, st).map(provider -> OptionalLong.of(System.currentTimeMillis()
                + expectedMs(p.recipe(), provider))).orElse(OptionalLong.empty());
    }

    /** When the soonest launch or start of the recipe under way is expected to serve (epoch ms), if any. */
    private OptionalLong underWay(String recipe) {
        return controller.compute().all().stream().filter(i -> recipe.equals(i.recipe())
                        && (i.state() == TrackedInstance.State.PROVISIONING || i.state() == TrackedInstance.State.WAITING))
                .mapToLong(i -> i.wakingSinceMs() + expectedMs(recipe, i.provider())).min();
    }

    /** The median time to ready of the last launches of the recipe on the provider, else the configured default. */
    long expectedMs(String recipe, String provider) {
        return controller.timeToReady().expected(recipe, provider).toMillis();
    }

    /** The seconds left until {@code readyAtMs} (at least 1; a few once overdue), or empty for none coming. */
    static OptionalLong answer(long readyAtMs, long nowMs) {
        if (readyAtMs < 0) {
            return OptionalLong.empty();
        }
        long left = readyAtMs - nowMs;
        return OptionalLong.of(left <= 0 ? OVERDUE_SECONDS : (left + 999) / 1000);
    }
}
