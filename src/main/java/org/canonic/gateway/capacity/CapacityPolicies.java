package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.relay.OpenAiError;

import java.util.Optional;

/**
 * The admin API's way to the policies: every call first applies what other replicas stored ({@link SharedPolicies}),
 * so the view, the audit's "before" and a PUT's base are the shared policies, not this replica's last look.
 */
@Singleton
public class CapacityPolicies {

    @Inject
    ComputeService compute;

    @Inject
    SharedPolicies shared;

    /** The policies as stored now, applied to {@code controller}. */
    public void sync() {
        shared.sync();
    }

    /**
     * Replaces {@code recipe}'s policy in {@code controller} with {@code body} over it, stores it for every replica
     * and returns the new policy.
     *
     * @throws ComputeException 404 for a recipe that is not configured, 400 for a field out of range
     */
    public ObjectNode put(CapacityController controller, String recipe, JsonNode body) {
        if (!compute.recipes().all().containsKey(recipe)) {
            throw new ComputeException(404, "recipe_not_found", "No compute recipe is named '"
                    + OpenAiError.echo(recipe, 64) + "'; the recipes are " + compute.recipes().all().keySet() + ".");
        }
        return shared.put(recipe, body).view();
    }

    /** Takes {@code recipe}'s policy away for every replica; empty when none was in force. */
    public Optional<CapacityPolicy> remove(String recipe) {
        return shared.remove(recipe);
    }
}
