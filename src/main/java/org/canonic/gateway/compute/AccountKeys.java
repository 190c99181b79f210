package org.canonic.gateway.compute;

import org.canonic.gateway.config.ComputeConfig;
import org.canonic.gateway.config.GatewayConfig;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The provider account keys (governed compute), kept apart from the vLLM keys the static backends send. An account
 * key rents and destroys machines and sees the bill; a vLLM key is a bearer sent to a (third-party) machine. They
 * once shared variables ({@code VASTAI_API_KEY[_FILE]}), so the account key could travel to rented hosts as a bearer,
 * and a static backend's key could be used on the account API. Now: the account key comes only from
 * {@code VASTAI_ACCOUNT_KEY_FILE}, {@code VASTAI_ACCOUNT_KEY} or the account's dotenv file (same for
 * {@code RUNPOD_*}); compute is on for a provider only when one of those holds a key; and a start where an account
 * key is also a backend's bearer to a host that is not the provider's own is refused.
 */
public final class AccountKeys {

    public static final String VASTAI = "VASTAI_ACCOUNT_KEY";
    public static final String RUNPOD = "RUNPOD_ACCOUNT_KEY";

    private AccountKeys() {
    }

    /** The Vast.ai account key's sources; the dotenv file is the account's, where the Vast CLI's old name is kept. */
    public static ApiKeys vastai(ComputeConfig c, Function<String, String> environment) {
        return keys(VASTAI, c.vastai(), environment, "VASTAI_API_KEY");
    }

    public static ApiKeys runpod(ComputeConfig c, Function<String, String> environment) {
        return keys(RUNPOD, c.runpod(), environment, "RUNPOD_API_KEY");
    }

    /**
     * The file, then the variable (as configuration read it at start, else the environment now), then the
     * account's dotenv file, where the provider CLI's own name ({@code VASTAI_API_KEY}) is accepted too: that file
     * is the account's and names nothing else.
     */
    static ApiKeys keys(String variable, ComputeConfig.ProviderConfig provider,
                                Function<String, String> environment, String cliName) {
        Optional<String> configured = provider.apiKey().map(String::strip).filter(k -> !k.isEmpty());
        Function<String, String> source = name -> name.equals(variable) && configured.isPresent() ? configured.get()
                : environment.apply(name);
        return new ApiKeys(variable, provider.apiKeyFile(), provider.dotenvPath(), source, List.of(variable, cliName));
    }

    /**
     * Configurations that would send an account key to a vLLM host: a configured backend whose bearer is a
     * provider's account key, unless the backend is that provider's own API (a RunPod serverless endpoint takes
     * the RunPod key by design).
     */
    public static List<String> problems(GatewayConfig config, Function<String, String> environment) {
        Map<String, Optional<String>> accounts = new java.util.LinkedHashMap<>();
        accounts.put("Vast.ai", vastai(config.compute(), environment).resolve());
        accounts.put("RunPod", runpod(config.compute(), environment).resolve());
        List<StaticBackend> backends = new ArrayList<>();
        config.backends().forEach((name, backend) -> backend.baseUrl().filter(u -> !u.isBlank())
                .ifPresent(url -> backends.add(new StaticBackend(name, url, bearer(backend)))));
        return problems(backends, accounts);
    }

    /** A configured backend: its name, base URL and the bearer it sends, if any. */
    public record StaticBackend(String name, String baseUrl, Optional<String> bearer) {
    }

    /** @param accounts each provider's resolved account key, by provider name ({@code Vast.ai}, {@code RunPod}) */
    public static List<String> problems(List<StaticBackend> backends, Map<String, Optional<String>> accounts) {
        List<String> problems = new ArrayList<>();
        for (StaticBackend backend : backends) {
            accounts.forEach((provider, account) -> {
                if (account.isPresent() && backend.bearer().isPresent() && account.get().equals(backend.bearer().get())
                        && !ownHost(provider, backend.baseUrl())) {
                    boolean runpod = provider.equals("RunPod");
                    problems.add("backend " + backend.name() + " would send the " + provider + " account key to "
                            + host(backend.baseUrl()) + " as its bearer: give the backend its vLLM key ("
                            + (runpod ? "RUNPOD_API_KEY[_FILE]" : "VASTAI_VLLM_API_KEY[_FILE]") + ") and the account"
                            + " key its own variable (" + (runpod ? RUNPOD : VASTAI) + "[_FILE])");
                }
            });
        }
        return problems;
    }

    /** What an operator should change, for the start-up log: old names that still work, or no longer mean this. */
    public static List<String> warnings(Function<String, String> environment) {
        List<String> warnings = new ArrayList<>();
        if (set(environment, "VASTAI_API_KEY") || set(environment, "VASTAI_API_KEY_FILE")) {
            warnings.add("VASTAI_API_KEY / VASTAI_API_KEY_FILE are the static Vast.ai backends' vLLM key (deprecated"
                    + " names: use VASTAI_VLLM_API_KEY / VASTAI_VLLM_API_KEY_FILE); they are never the Vast.ai account"
                    + " key, which governed compute reads from " + VASTAI + "_FILE or " + VASTAI);
        }
        if ((set(environment, "RUNPOD_API_KEY") || set(environment, "RUNPOD_API_KEY_FILE"))
                && !set(environment, RUNPOD) && !set(environment, RUNPOD + "_FILE")
                && !set(environment, "RUNPOD_DOTENV_PATH")) {
            warnings.add("RUNPOD_API_KEY is the static RunPod backend's key only: governed compute on RunPod needs "
                    + RUNPOD + "_FILE or " + RUNPOD);
        }
        return warnings;
    }

    private static boolean set(Function<String, String> environment, String name) {
        String value = environment.apply(name);
        return value != null && !value.isBlank();
    }

    private static Optional<String> bearer(GatewayConfig.BackendConfig backend) {
        Optional<String> literal = backend.apiKey().map(String::strip).filter(k -> !k.isEmpty());
        if (literal.isPresent()) {
            return literal;
        }
        return backend.apiKeyFile().filter(f -> !f.isBlank()).flatMap(file -> {
            try {
                return Optional.of(Files.readString(Path.of(file), StandardCharsets.UTF_8).strip());
            } catch (IOException | RuntimeException e) {
                return Optional.empty(); // an unreadable file stops the start elsewhere, with its own message
            }
        });
    }

    private static boolean ownHost(String provider, String baseUrl) {
        String host = host(baseUrl);
        return provider.equals("RunPod") && (host.equals("api.runpod.ai") || host.endsWith(".runpod.ai")
                || host.endsWith(".runpod.io") || host.endsWith(".runpod.net"));
    }

    private static String host(String url) {
        try {
            String host = URI.create(url.strip()).getHost();
            return host == null ? "?" : host.toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return "?";
        }
    }
}
