package org.canonic.gateway.memory;

import org.canonic.gateway.testing.PackagedGateway;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged gateway's body budget follows the heap it is given (-Xmx), not the host: 25 % of a 256 MiB heap is at
 * most 64 MiB. Also prints the resident size at rest, for the README's "heap + 170 MB".
 */
class HeapSizingIT {

    private static final Pattern LIMIT = Pattern.compile("(?m)^gateway_body_budget_limit_bytes(?:\\{[^}]*})? (\\S+)$");

    @Test
    void theBodyBudgetIsAQuarterOfTheHeapTheJvmWasGiven() throws Exception {
        assertTrue(Files.exists(PackagedGateway.JAR), "package the gateway first");
        PackagedGateway gateway = PackagedGateway.start(Map.of("JAVA_TOOL_OPTIONS", "-Xmx256m", "GATEWAY_AUTH", "none",
                "GATEWAY_STATE_DIR", Files.createTempDirectory("heap-it").toString()));
        try {
            String metrics = gateway.management().get("/q/metrics").body();
            Matcher matcher = LIMIT.matcher(metrics);
            assertTrue(matcher.find(), metrics);
            double limit = Double.parseDouble(matcher.group(1));
            double mib = 1024.0 * 1024;
            assertTrue(limit <= 64 * mib && limit >= 56 * mib, "the budget is " + limit / mib + " MiB");
            String status = Files.readString(Path.of("/proc/" + gateway.process().pid() + "/status"));
            status.lines().filter(line -> line.startsWith("VmRSS")).forEach(line ->
                    System.out.println("Packaged gateway with -Xmx256m at rest: " + line.replaceAll("\\s+", " ")));
        } finally {
            gateway.terminate(40);
        }
    }
}
