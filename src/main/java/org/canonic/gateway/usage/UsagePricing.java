package org.canonic.gateway.usage;

import java.util.Map;
import java.util.OptionalDouble;

/**
 * How tokens become dollars.
 *
 * <p>A rented instance's real spend over a period (its running hours x $/h plus stopped hours x storage $/h, as
 * governed compute bills it) is shared among whoever used it in that period, in proportion to <em>weighted
 * tokens</em>: input tokens + {@code outputWeight} x output tokens. An output token costs a GPU more than an input
 * token (a decode step per token, where a prompt is prefilled in parallel), which is why providers price them 3 to 5
 * times higher; the weight says how much more. A static backend (not rented by this gateway) has no spend to share:
 * it costs its configured $ per million weighted tokens, or nothing when none is configured.
 *
 * @param outputWeight       what one output token weighs against one input token
 * @param usdPerMillion      by backend name: $ per million weighted tokens on a static backend
 */
public record UsagePricing(double outputWeight, Map<String, Double> usdPerMillion) {

    public double weighted(long input, long output) {
        return input + outputWeight * output;
    }

    OptionalDouble staticPrice(String backend) {
        Double price = backend == null ? null : usdPerMillion.get(backend);
        return price == null ? OptionalDouble.empty() : OptionalDouble.of(price);
    }

    /** What a rented instance cost in a period; empty for a backend that is not an instance rented here. */
    public interface InstanceSpend {
        InstanceSpend NONE = (backend, fromMs, toMs) -> OptionalDouble.empty();

        OptionalDouble spendUsd(String backend, long fromMs, long toMs);
    }
}
