package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.canonic.gateway.compute.ComputeException;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The policies set through the admin API, kept in a {@link CapacityPolicyStore} and applied to this replica's
 * {@link CapacityController} over the configured ones: at start, before every tick and before every admin call
 * ({@link #sync}, one {@code GET} of the version while nothing changed), so every replica shows the same policies and
 * whichever leads acts on them. A PUT or DELETE is decided on the stored policies and written by compare-and-set on
 * the version it read: one decided on a stale view is decided again on the fresh one, never written over it.
 *
 * <p>A stored document that no longer passes the checks of this replica (a provider or recipe taken out of its
 * configuration) is logged and left out; the configured policy, if any, stays in force for that recipe.
 */
public final class SharedPolicies {

    private static final Logger LOG = Logger.getLogger(SharedPolicies.class);
    private static final int ATTEMPTS = 10;

    private final CapacityPolicyStore store;
    private final CapacityController controller;
    private final Function<CapacityPolicy, List<String>> check;
    private String applied;

    /** @param check what is out of range in a policy, as {@link CapacityPolicy#problems} for a PUT body names it */
    public SharedPolicies(CapacityPolicyStore store, CapacityController controller,
                          Function<CapacityPolicy, List<String>> check) {
        this.store = store;
        this.controller = controller;
        this.check = check;
    }

    public String where() {
        return store.where();
    }

    /** Applies what changed in the store since the last look. */
    public synchronized void sync() {
        CapacityPolicyStore.Snapshot snapshot = store.read();
        if (!snapshot.version().equals(applied)) {
            apply(snapshot);
        }
    }

    private void apply(CapacityPolicyStore.Snapshot snapshot) {
        for (Map.Entry<String, JsonNode> e : snapshot.policies().entrySet()) {
            String recipe = e.getKey();
            JsonNode document = e.getValue();
            if (document.path("removed").asBoolean(false)) {
                controller.remove(recipe);
                continue;
            }
            CapacityPolicy policy;
            try {
                ObjectNode fields = document.deepCopy();
                fields.remove("recipe");
                policy = CapacityPolicy.parse(recipe, fields, CapacityPolicy.defaults(recipe));
            } catch (ComputeException | ClassCastException ex) {
                LOG.errorf("Capacity: the stored policy of %s in %s cannot be read (%s); left out", recipe,
                        store.where(), ex.getMessage());
                continue;
            }
            List<String> problems = check.apply(policy);
            if (!problems.isEmpty()) {
                LOG.errorf("Capacity: the stored policy of %s in %s does not fit this replica's configuration (%s);"
                        + " left out", recipe, store.where(), String.join("; ", problems));
                continue;
            }
            // Only a policy that changed starts its windows and cooldowns over.
            if (!controller.policy(recipe).map(policy::equals).orElse(false)) {
                controller.put(policy);
            }
        }
        applied = snapshot.version();
    }

    /**
     * Sets {@code recipe}'s policy to {@code body} over the one in force (fields left out keep their value), stores it
     * and puts it in force here; the other replicas follow on their next look.
     *
     * @throws ComputeException 400 {@code invalid_capacity_policy} naming the field; 503 when other replicas kept
     *                          changing the policies meanwhile
     */
    public synchronized CapacityPolicy put(String recipe, JsonNode body) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            CapacityPolicyStore.Snapshot snapshot = fresh();
            CapacityPolicy base = controller.policy(recipe).orElse(CapacityPolicy.defaults(recipe));
            CapacityPolicy policy = CapacityPolicy.parse(recipe, body, base);
            List<String> problems = check.apply(policy);
            if (!problems.isEmpty()) {
                String first = problems.get(0);
                throw CapacityPolicy.invalid(first.contains(" must") ? first.substring(0, first.indexOf(' ')) : null,
                        String.join("; ", problems) + ".");
            }
            if (store.write(snapshot.version(), recipe, policy.view())) {
                controller.put(policy);
                return policy;
            }
        }
        throw busy();
    }

    /**
     * Takes {@code recipe}'s policy away (a configured one too, also after a restart: the store remembers the removal).
     *
     * @return the policy removed; empty when none was in force (nothing is stored then)
     */
    public synchronized Optional<CapacityPolicy> remove(String recipe) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            CapacityPolicyStore.Snapshot snapshot = fresh();
            if (controller.policy(recipe).isEmpty()) {
                return Optional.empty();
            }
            if (store.write(snapshot.version(), recipe, JsonNodeFactory.instance.objectNode().put("recipe", recipe)
                    .put("removed", true))) {
                return controller.remove(recipe);
            }
        }
        throw busy();
    }

    private CapacityPolicyStore.Snapshot fresh() {
        CapacityPolicyStore.Snapshot snapshot = store.read();
        if (!snapshot.version().equals(applied)) {
            apply(snapshot);
        }
        return snapshot;
    }

    private static ComputeException busy() {
        return new ComputeException(503, "capacity_policy_busy", "The capacity policies kept changing on other "
                + "replicas while this change was decided; retry.");
    }
}
