package org.canonic.gateway.config;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.spi.ConfigSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Start-up checks of settings that no single component owns. Each returns problems rather than throwing, so that
 * one start-up reports every problem at once.
 */
public final class BootChecks {

    private BootChecks() {
    }

    public static List<String> check(GatewayConfig config, Config raw) {
        List<String> problems = new ArrayList<>();
        checkTokens(config.tokens(), problems);
        checkNoLiteralSecrets(raw, problems);
        if (config.keepAliveInterval().isZero() || config.keepAliveInterval().isNegative()) {
            problems.add("gateway.keep-alive-interval must be positive");
        }
        return problems;
    }

    static void checkTokens(GatewayConfig.Tokens tokens, List<String> problems) {
        if (tokens.min() < 1) {
            problems.add("TOKENS_MIN (gateway.tokens.min) must be at least 1, got " + tokens.min());
        }
        if (tokens.min() > tokens.max()) {
            problems.add("TOKENS_MIN (" + tokens.min() + ") is larger than TOKENS_MAX (" + tokens.max() + ")");
        }
        if (tokens.defaultLimit() < tokens.min() || tokens.defaultLimit() > tokens.max()) {
            problems.add("MAX_TOKENS (" + tokens.defaultLimit() + ") must lie between TOKENS_MIN (" + tokens.min()
                    + ") and TOKENS_MAX (" + tokens.max() + ")");
        }
        String over = tokens.overCeiling().strip().toLowerCase(Locale.ROOT);
        if (!over.equals("clamp") && !over.equals("refuse")) {
            problems.add("gateway.tokens.over-ceiling must be 'clamp' or 'refuse', got '" + tokens.overCeiling() + "'");
        }
    }

    /**
     * A credential must come from the environment or a secret file, never from a config file shipped in the jar or
     * image. Settings that hold credentials must therefore be {@code ${...}} expressions (or empty) in any
     * application.properties.
     */
    static void checkNoLiteralSecrets(Config raw, List<String> problems) {
        for (ConfigSource source : raw.getConfigSources()) {
            String sourceName = source.getName();
            if (!isConfigFile(source)) {
                continue;
            }
            for (String name : source.getPropertyNames()) {
                String value = source.getValue(name);
                if (isSecretSetting(name) && value != null && !value.isBlank() && !value.strip().startsWith("${")) {
                    problems.add(name + " is written as a literal in " + shortName(sourceName)
                            + "; credentials must come from the environment or a secret file");
                }
            }
        }
    }

    /**
     * The application.properties files an operator or a build writes: packaged in the jar (ordinal 250) or in
     * {@code config/} beside it (260). Test and runtime overrides are not files anyone ships.
     */
    private static boolean isConfigFile(ConfigSource source) {
        String name = source.getName() == null ? "" : source.getName();
        return (name.contains("application.properties") || name.contains("application.yaml"))
                && source.getOrdinal() <= 260;
    }

    static boolean isSecretSetting(String name) {
        String plain = name.startsWith("%") && name.indexOf('.') > 0 ? name.substring(name.indexOf('.') + 1) : name;
        return plain.startsWith("gateway.") && (plain.endsWith(".api-key") || plain.equals("gateway.auth.keys")
                || plain.equals("gateway.admin-token") || plain.equals("gateway.webhooks.secret"));
    }

    private static String shortName(String sourceName) {
        int slash = sourceName.lastIndexOf('/');
        return slash >= 0 ? sourceName.substring(slash + 1).replace("]", "") : sourceName;
    }
}
