package org.canonic.gateway.config;

import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** Governed compute ({@code gateway.compute.*}): providers, recipes, cost tiers, readiness and leak watch. */
public interface ComputeConfig {
    /** Part of every instance label ({@code mg-<recipe>-<gateway-id>-<uuid8>}): a-z, 0-9 and '-'. */
    @WithDefault("gw")
    String gatewayId();

    /** Vast.ai: {@code VASTAI_API_URL}, key from {@code VASTAI_API_KEY_FILE}, {@code VASTAI_API_KEY}, dotenv. */
    ProviderConfig vastai();

    /** RunPod REST v2: {@code RUNPOD_API_URL}, key from {@code RUNPOD_API_KEY_FILE}, {@code RUNPOD_API_KEY}. */
    ProviderConfig runpod();

    /** Where a RunPod pod's port 8000 answers; {@code {id}} is the pod id. */
    @WithDefault("https://{id}-8000.proxy.runpod.net")
    String runpodProxyUrlTemplate();

    /** RunPod's serverless API ({@code /v2/{endpoint_id}/health}). */
    @WithDefault("https://api.runpod.ai")
    String runpodServerlessUrl();

    /** One provider call (each attempt) must answer within this. */
    @WithDefault("20s")
    @WithConverter(MillisDurationConverter.class)
    Duration providerTimeout();

    /** Attempts per provider call when it answers 429 or 502/503/504. */
    @WithDefault("3")
    int providerMaxAttempts();

    /** The longest Retry-After the gateway waits before a retry (admin calls block meanwhile). */
    @WithDefault("5s")
    @WithConverter(MillisDurationConverter.class)
    Duration providerMaxRetryAfter();

    /** Re-reads that confirm a state change or destroy, and the pause between them. */
    @WithDefault("5")
    int confirmReads();

    @WithDefault("2s")
    @WithConverter(MillisDurationConverter.class)
    Duration confirmDelay();

    /** Estimates below this proceed without a warning. */
    @WithDefault("5")
    double warnUsd();

    /** Estimates above this need {@code confirm_estimate_usd}. */
    @WithDefault("20")
    double confirmUsd();

    /** What launches may reserve per UTC day: every launch counts, whatever its tier. */
    @WithDefault("20")
    double dailyCapUsd();

    /** Longest planned run a provision may state. */
    @WithDefault("720")
    double maxHours();

    /** How often waiting instances are polled (and idle stops checked). */
    @WithDefault("10s")
    @WithConverter(MillisDurationConverter.class)
    Duration pollInterval();

    /** An instance not serving by then has failed. */
    /**
     * Whether machines reached across the internet on their own address (Vast.ai) serve vLLM over TLS with a
     * certificate the gateway makes per instance and pins ({@code true}); {@code false} sends prompts and the
     * instance key in the clear, for hosts reached only over a private network or VPN.
     */
    @WithDefault("true")
    boolean instanceTls();

    @WithDefault("20m")
    @WithConverter(MillisDurationConverter.class)
    Duration readinessDeadline();

    /** What happens to an instance that missed its readiness deadline: {@code stop} or {@code destroy}. */
    @WithDefault("destroy")
    String onReadinessFailure();

    /**
     * What happens to a serving instance the provider stopped under the gateway (a Vast.ai interruptible instance
     * outbid, an account out of credit): {@code destroy} (the default: stopped still bills storage, an outbid
     * instance has lost its GPU, and a machine that only serves vLLM holds nothing a new one would not download
     * again) or {@code keep} (left stopped and tracked, billing storage, for an operator to start or destroy).
     */
    @WithDefault("destroy")
    OnInterruption onInterruption();

    enum OnInterruption { DESTROY, KEEP }

    /**
     * How long a serving instance may fail its probes (its backend DOWN) while the provider says it runs before it
     * counts as dying: drained, marked failed, reported, then stopped or destroyed like a readiness failure. 0 turns
     * this off.
     */
    @WithDefault("5m")
    @WithConverter(MillisDurationConverter.class)
    Duration unresponsiveGrace();

    /** A backend that served within this is busy: stop and destroy are refused unless forced. */
    @WithDefault("5m")
    @WithConverter(MillisDurationConverter.class)
    Duration recentTraffic();

    /**
     * How long a launch whose create failed ambiguously (any non-2xx answer, a timeout, a dropped connection) or that
     * a restart interrupted is looked up by its label before it is closed as never created. Provider lists lag
     * their creates by seconds; until then the reservation is kept.
     */
    @WithDefault("2m")
    @WithConverter(MillisDurationConverter.class)
    Duration createLookupWindow();

    /** How often the providers are listed to find leaks; 0 turns the leak watch off. */
    @WithDefault("5m")
    @WithConverter(MillisDurationConverter.class)
    Duration leakWatchInterval();

    /** Recipes by name, over the built-in {@code chat} and {@code kilocode}. */
    Map<String, RecipeConfig> recipes();


    interface ProviderConfig {
        /** The API's base URL; default https://console.vast.ai (Vast.ai) or https://api.runpod.io (RunPod). */
        Optional<String> apiUrl();

        /** A mounted secret file holding the account's API key (read first: {@code VASTAI_ACCOUNT_KEY_FILE}). */
        Optional<String> apiKeyFile();

        /**
         * The account's API key from the environment ({@code VASTAI_ACCOUNT_KEY}, {@code RUNPOD_ACCOUNT_KEY}; read
         * after the file). Never the static backends' vLLM key, and never a literal in committed configuration.
         */
        Optional<String> apiKey();

        /** A dotenv file of {@code KEY=VALUE} lines (read last). */
        Optional<String> dotenvPath();
    }

    interface RecipeConfig {
        Optional<String> model();

        /** The route the backend joins; default: the recipe's name. */
        Optional<String> route();

        /** Its place in the route (0 = first); default last. */
        Optional<Integer> position();

        Optional<String> vastaiImage();

        Optional<String> runpodImage();

        /** Disk in GB (Vast.ai {@code disk}, RunPod container disk). */
        Optional<Integer> diskGb();

        Optional<Integer> vastaiMaxModelLen();

        Optional<Integer> runpodMaxModelLen();

        /** Offers with less VRAM per GPU are not picked automatically. */
        Optional<Double> minVramGb();

        /** RunPod GPU type id used when no offer is given. */
        Optional<String> runpodGpu();
    }
}
