package org.canonic.gateway.capacity;

import io.quarkus.arc.Arc;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.Vertx;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.routing.Dispatcher;
import org.canonic.gateway.testing.FakeBackends;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 23 item 8, the simulation benchmark: a compressed day of demand through the gateway's real request path,
 * the real capacity controller and compute service against the fake Vast.ai API, simulated vLLM replicas with launch
 * times of minutes (simulated), money from the fake provider's own billing. Always-on capacity sized for the peak
 * against the capacity policy: the policy must cost at most 40 % of always-on and serve at least 99 % of the daytime
 * requests without a capacity refusal.
 *
 * <p>{@link #aCompressedDayMeetsTheCapacityTarget} is the SHORT day CI runs (fixed seed, about a minute a day);
 * {@link #theFullDayBenchmark} is the bench's day ({@code bench/capacity-day.sh}), skipped unless
 * {@code -Dcapacity.day=full}.
 */
@QuarkusTest
@TestProfile(CapacityDayProfile.class)
class CapacityDayTest {

    @TestHTTPResource("/")
    URL gatewayUrl;

    /** CI's guard: the SHORT compressed day (2-minute steps, fewer requests), seed 23. */
    @Test
    void aCompressedDayMeetsTheCapacityTarget() throws Exception {
        CapacityDayReport report = day(CapacityDay.quick(23), Path.of("target", "capacity-day-quick.txt"), false);
        assertTrue(report.passed, report.text());
    }

    /** The bench's day: {@code -Dcapacity.day=full|quick [-Dcapacity.day.seed=N] [-Dcapacity.day.out=FILE]}. */
    @Test
    void theFullDayBenchmark() throws Exception {
        String which = System.getProperty("capacity.day", "");
        Assumptions.assumeTrue(which.equals("full") || which.equals("quick"), "bench only: -Dcapacity.day=full");
        long seed = Long.parseLong(System.getProperty("capacity.day.seed", "23"));
        String out = System.getProperty("capacity.day.out", "target/capacity-day-" + which + ".txt");
        CapacityDayReport report = day(which.equals("full") ? CapacityDay.full(seed) : CapacityDay.quick(seed),
                Path.of(out), true);
        assertTrue(report.passed, report.text());
    }

    private CapacityDayReport day(CapacityDay.Settings settings, Path out, boolean withMinimumOne)
            throws Exception {
        Fleet fleet = Arc.container().instance(Fleet.class).get();
        // A request nothing serves must be refused, not answered by a fallback.
        assertTrue(fleet.snapshot().fallback().isEmpty(), "route simday must have no fallback");
        Vertx vertx = Arc.container().instance(Vertx.class).get();
        CapacityDay day = new CapacityDay(settings, gatewayUrl.toURI(), fleet,
                Arc.container().instance(Dispatcher.class).get(), vertx, FakeBackends.vastai());
        int peak = settings.alwaysOnInstances();
        CapacityDay.ArmResult on = day.run("always-on", day.policy(peak, peak, Duration.ofMinutes(2), 0,
                Duration.ofMinutes(15), List.of()));
        // The policy the targets judge: scale to zero outside a scheduled window of office hours.
        List<CapacityDay.ArmResult> policies = new ArrayList<>();
        policies.add(day.run("policy", day.policy(0, peak, Duration.ofMinutes(2), settings.seqs() * 0.6,
                Duration.ofMinutes(10), CapacityDay.officeHours())));
        if (withMinimumOne) {
            // For comparison: the same policy without the window, one instance kept day and night.
            policies.add(day.run("policy-min1", day.policy(1, peak, Duration.ofMinutes(2), settings.seqs() * 0.6,
                    Duration.ofMinutes(10), List.of())));
        }
        CapacityDayReport report = new CapacityDayReport(settings, day.arrivals().size(), on, policies,
                Instant.now().truncatedTo(ChronoUnit.SECONDS) + ", " + day.offerSummary());
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report.text());
        System.out.println(report.text());
        return report;
    }
}
