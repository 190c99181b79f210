package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.compute.runpod.RunPodProvider;
import org.canonic.gateway.compute.vastai.VastAiProvider;
import org.canonic.gateway.config.ComputeConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** Builds the two providers from configuration; each has its own account key ({@link AccountKeys}) and client. */
public final class Providers {

    private Providers() {
    }

    public static Map<String, ComputeProvider> build(ComputeConfig c, ObjectMapper mapper,
                                                     Function<String, String> environment) {
        Map<String, ComputeProvider> providers = new LinkedHashMap<>();
        ApiKeys vastKeys = AccountKeys.vastai(c, environment);
        providers.put(VastAiProvider.NAME, new VastAiProvider(new ProviderHttp("Vast.ai",
                nonBlank(c.vastai().apiUrl()).orElse("https://console.vast.ai"),
                vastKeys, mapper, c.providerTimeout(), c.providerMaxAttempts(), c.providerMaxRetryAfter()), mapper,
                c.confirmReads(), c.confirmDelay().toMillis()));
        ApiKeys runpodKeys = AccountKeys.runpod(c, environment);
        providers.put(RunPodProvider.NAME, new RunPodProvider(new ProviderHttp("RunPod",
                nonBlank(c.runpod().apiUrl()).orElse("https://api.runpod.io"),
                runpodKeys, mapper, c.providerTimeout(), c.providerMaxAttempts(), c.providerMaxRetryAfter()), mapper,
                c.runpodProxyUrlTemplate(), c.confirmReads(), c.confirmDelay().toMillis()));
        return providers;
    }

    /** RunPod serverless health, with the RunPod account key. */
    public static org.canonic.gateway.compute.runpod.RunPodServerless serverless(ComputeConfig c,
                                                                                ObjectMapper mapper,
                                                                                Function<String, String> environment) {
        ApiKeys keys = AccountKeys.runpod(c, environment);
        return new org.canonic.gateway.compute.runpod.RunPodServerless(new ProviderHttp("RunPod serverless",
                c.runpodServerlessUrl(), keys, mapper, c.providerTimeout(), c.providerMaxAttempts(),
                c.providerMaxRetryAfter()), mapper);
    }

    static Optional<String> nonBlank(Optional<String> value) {
        return value.filter(s -> !s.isBlank());
    }
}
