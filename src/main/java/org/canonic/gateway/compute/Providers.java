package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.canonic.gateway.compute.runpod.RunPodProvider;
import org.canonic.gateway.compute.vastai.VastAiProvider;
import org.canonic.gateway.config.ComputeConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/** Builds the two providers from configuration; each has its own variables and its own client. */
public final class Providers {

    private Providers() {
    }

    public static Map<String, ComputeProvider> build(ComputeConfig c, ObjectMapper mapper,
                                                     Function<String, String> environment) {
        Map<String, ComputeProvider> providers = new LinkedHashMap<>();
        ApiKeys vastKeys = new ApiKeys("VASTAI_API_KEY", c.vastai().apiKeyFile(), c.vastai().dotenvPath(),
                environment);
        providers.put(VastAiProvider.NAME, new VastAiProvider(new ProviderHttp("Vast.ai",
                nonBlank(c.vastai().apiUrl()).orElse("https://console.vast.ai"),
                vastKeys, mapper, c.providerTimeout(), c.providerMaxAttempts(), c.providerMaxRetryAfter()), mapper,
                c.confirmReads(), c.confirmDelay().toMillis()));
        ApiKeys runpodKeys = new ApiKeys("RUNPOD_API_KEY", c.runpod().apiKeyFile(), c.runpod().dotenvPath(),
                environment);
        providers.put(RunPodProvider.NAME, new RunPodProvider(new ProviderHttp("RunPod",
                nonBlank(c.runpod().apiUrl()).orElse("https://api.runpod.io"),
                runpodKeys, mapper, c.providerTimeout(), c.providerMaxAttempts(), c.providerMaxRetryAfter()), mapper,
                c.runpodProxyUrlTemplate(), c.confirmReads(), c.confirmDelay().toMillis()));
        return providers;
    }

    /** RunPod serverless health, with RunPod's key. */
    public static org.canonic.gateway.compute.runpod.RunPodServerless serverless(ComputeConfig c,
                                                                                ObjectMapper mapper,
                                                                                Function<String, String> environment) {
        ApiKeys keys = new ApiKeys("RUNPOD_API_KEY", c.runpod().apiKeyFile(), c.runpod().dotenvPath(), environment);
        return new org.canonic.gateway.compute.runpod.RunPodServerless(new ProviderHttp("RunPod serverless",
                c.runpodServerlessUrl(), keys, mapper, c.providerTimeout(), c.providerMaxAttempts(),
                c.providerMaxRetryAfter()), mapper);
    }

    static Optional<String> nonBlank(Optional<String> value) {
        return value.filter(s -> !s.isBlank());
    }
}
