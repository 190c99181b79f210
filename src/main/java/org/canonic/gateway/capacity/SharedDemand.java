package org.canonic.gateway.capacity;

import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.state.StateStore;
import org.jboss.logging.Logger;

/**
 * Wake demand passed from a replica that does not lead to the one that does: a key per recipe
 * ({@code <prefix>:capacity-wake:<recipe>}, expiring after {@value #TTL_MS} ms, so a demand nobody acted on does not
 * wake a route much later) and a message on {@value #CHANNEL}, so the leader acts at once rather than at its next
 * tick. The leader takes the key away when it acts on it (one DEL: two looks cannot both take it). With the embedded
 * store there is one replica, which leads, and nothing to pass.
 */
public final class SharedDemand {

    static final String CHANNEL = "capacity-wake";
    static final long TTL_MS = 120_000;
    private static final Logger LOG = Logger.getLogger(SharedDemand.class);

    /** One replica: the demand is always this replica's own. */
    public static final SharedDemand NONE = new SharedDemand(null);

    private final StateStore store;

    private SharedDemand(StateStore store) {
        this.store = store;
    }

    /** The demand shared through {@code store} when replicas share state, else {@link #NONE}. */
    public static SharedDemand of(StateStore store) {
        return store.shared() ? new SharedDemand(store) : NONE;
    }

    boolean shared() {
        return store != null;
    }

    private String key(String recipe) {
        return store.key("capacity-wake:" + recipe);
    }

    /** Tells the leader that a request for {@code recipe}'s route found nothing to serve it. Blocking. */
    void pass(String recipe) {
        if (store == null) {
            return;
        }
        try {
            store.call(Command.SET, key(recipe), store.replicaId(), "PX", TTL_MS);
            store.publish(CHANNEL, recipe);
        } catch (RuntimeException e) {
            // The client still hears the truth about this replica's view; the leader's tick cannot see the demand.
            LOG.warnf("Capacity: the wake demand for %s could not be passed to the leader (%s)", recipe, e.toString());
        }
    }

    /** Whether another replica passed demand for {@code recipe} that nobody acted on yet. Blocking. */
    boolean waiting(String recipe) {
        if (store == null) {
            return false;
        }
        try {
            Response n = store.call(Command.EXISTS, key(recipe));
            return n != null && n.toInteger() > 0;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Takes the passed demand for {@code recipe}: true for the one caller that removed it. Blocking. */
    boolean take(String recipe) {
        if (store == null) {
            return false;
        }
        try {
            Response n = store.call(Command.DEL, key(recipe));
            return n != null && n.toInteger() > 0;
        } catch (RuntimeException e) {
            // Fail closed: demand that cannot be confirmed launches nothing.
            return false;
        }
    }
}
