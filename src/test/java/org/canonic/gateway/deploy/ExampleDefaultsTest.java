package org.canonic.gateway.deploy;

import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.runtime.configuration.MemorySizeConverter;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.canonic.gateway.config.GatewayConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the deploy examples say about the application, against the application (issue 25, item 18): the defaults
 * {@code gateway.env.example} shows are the ones the configuration declares, and every tunnel path rule the bundle
 * quotes is the example's, which lets {@code /health/{route}} through.
 */
class ExampleDefaultsTest {

    private static final Path DEPLOY = Path.of("deploy");
    private static final Pattern SHOWN = Pattern.compile("^# ([A-Z][A-Z0-9_]+)=(\\S+)");
    private static final Pattern TUNNEL_PATH = Pattern.compile("\\^/\\(v1[^\\s`'\"]*\\$");

    @Test
    void theDefaultsTheEnvExampleShowsAreTheApplicationsOwn() throws IOException {
        SmallRyeConfig config = new SmallRyeConfigBuilder().addDefaultInterceptors()
                .withConverter(MemorySize.class, 100, new MemorySizeConverter())
                .withMapping(GatewayConfig.class).build();
        List<String> lines = Files.readAllLines(DEPLOY.resolve("gateway.env.example"));
        int start = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains("(defaults shown")) {
                start = i + 1;
            }
        }
        assertTrue(start > 0, "gateway.env.example has a block of defaults");
        Map<String, String> shown = new LinkedHashMap<>();
        for (int i = start; i < lines.size() && !lines.get(i).isBlank(); i++) {
            Matcher matcher = SHOWN.matcher(lines.get(i));
            if (matcher.find()) {
                shown.put(matcher.group(1), matcher.group(2));
            }
        }
        assertTrue(shown.size() >= 5, shown.toString());
        List<String> wrong = new ArrayList<>();
        shown.forEach((variable, value) -> {
            String property = property(config, variable);
            String declared = config.getConfigValue(property).getValue();
            if (!value.equals(declared)) {
                wrong.add(variable + "=" + value + " but " + property + " defaults to " + declared);
            }
        });
        assertEquals(List.of(), wrong, "deploy/gateway.env.example shows wrong defaults");
    }

    @Test
    void everyTunnelPathRuleTheBundleQuotesIsTheExamplesAndPassesRouteHealth() throws IOException {
        Matcher rule = TUNNEL_PATH.matcher(Files.readString(DEPLOY.resolve("cloudflared-config.example.yml")));
        assertTrue(rule.find(), "the example has a path rule");
        String path = rule.group();
        Pattern compiled = Pattern.compile(path);
        for (String served : List.of("/v1/chat/completions", "/v1/models", "/health", "/health/main", "/health/chat")) {
            assertTrue(compiled.matcher(served).matches(), path + " must pass " + served);
        }
        for (String kept : List.of("/admin/keys", "/q/metrics", "/console/", "/healthz", "/health/a/b")) {
            assertFalse(compiled.matcher(kept).matches(), path + " must stop " + kept);
        }
        List<String> other = new ArrayList<>();
        try (Stream<Path> files = Files.walk(DEPLOY)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Matcher quoted = TUNNEL_PATH.matcher(Files.readString(file));
                while (quoted.find()) {
                    if (!quoted.group().equals(path)) {
                        other.add(file + ": " + quoted.group());
                    }
                }
            }
        }
        assertEquals(List.of(), other, "every quoted tunnel path rule must be the example's " + path);
    }

    /** The property a variable sets: its name with each '_' read as '.' or '-', whichever the mapping knows. */
    private static String property(SmallRyeConfig config, String variable) {
        String[] words = variable.toLowerCase(Locale.ROOT).split("_");
        int gaps = words.length - 1;
        for (int mask = 0; mask < (1 << gaps); mask++) {
            StringBuilder name = new StringBuilder(words[0]);
            for (int i = 0; i < gaps; i++) {
                name.append((mask & (1 << i)) != 0 ? '-' : '.').append(words[i + 1]);
            }
            if (config.getConfigValue(name.toString()).getValue() != null) {
                return name.toString();
            }
        }
        throw new AssertionError(variable + " maps to no property with a default");
    }
}
