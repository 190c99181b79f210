package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.relay.OpenAiError;

import java.util.List;

/** A policy set through the admin API: read over the one in force, checked like a configured one, then in force. */
@Singleton
public class CapacityPolicies {

    @Inject
    ComputeService compute;

    @Inject
    GatewayConfig gateway;

    /**
     * Replaces {@code recipe}'s policy in {@code controller} with {@code body} over it and returns the new policy.
     *
     * @throws ComputeException 404 for a recipe that is not configured, 400 for a field out of range
     */
    public ObjectNode put(CapacityController controller, String recipe, JsonNode body) {
        if (!compute.recipes().all().containsKey(recipe)) {
            throw new ComputeException(404, "recipe_not_found", "No compute recipe is named '"
                    + OpenAiError.echo(recipe, 64) + "'; the recipes are " + compute.recipes().all().keySet() + ".");
        }
        CapacityPolicy base = controller.policy(recipe).orElse(CapacityPolicy.defaults(recipe));
        CapacityPolicy policy = CapacityPolicy.parse(recipe, body, base);
        List<String> problems = policy.problems(null, compute.providers().keySet(),
                compute.recipes().all().keySet(), gateway.compute().maxHours());
        if (!problems.isEmpty()) {
            String first = problems.get(0);
            throw CapacityPolicy.invalid(first.contains(" must") ? first.substring(0, first.indexOf(' ')) : null,
                    String.join("; ", problems) + ".");
        }
        controller.put(policy);
        return policy.view();
    }
}
