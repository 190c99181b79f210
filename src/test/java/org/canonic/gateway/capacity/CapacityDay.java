package org.canonic.gateway.capacity;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeHarness;
import org.canonic.gateway.compute.FakeVastAi;
import org.canonic.gateway.compute.ProviderBilling;
import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.fleet.Fleet;
import org.canonic.gateway.routing.Dispatcher;
import org.canonic.gateway.routing.WakeOnDemand;
import org.canonic.gateway.schedule.ScheduleFixtures.MovableClock;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * One arm of the compressed day: the real {@link CapacityController} and {@code ComputeService} of a
 * {@link ComputeHarness} (the fake Vast.ai API over loopback HTTP, billing on the simulated clock), {@link SimReplica}s
 * as the rented machines, and every request sent through the running gateway's real request path (route
 * {@code simday}). Simulated time moves in steps; at each step the driver sends the step's arrivals, waits until each
 * reached a replica or was answered, moves the clock, lets the replicas answer what their engines produced, flips the
 * machines whose launch time passed to {@code running}, polls the compute watch (readiness, registration), waits until
 * the gateway scraped every serving replica at the new time, and ticks the controller (on a thread of its own: a
 * scale-in drains real requests, which end only as the simulation moves on).
 */
final class CapacityDay {

    /** What one day is made of; see {@link #full()} and {@link #quick()}. */
    record Settings(String name, Duration step, double peakPerMinute, int seqs, long meanDecodeMs,
                    long ttftObjectiveMs, long launchMinMs, long launchMaxMs, double usdPerHour, long seed) {

        /** In-flight sequences at the busiest minute (Little's law), over {@code seqs} per replica at 70 % busy. */
        int alwaysOnInstances() {
            double peakRate = peakPerMinute * DayDemand.peakShare() / DayDemand.MINUTE_MS;
            double busySeqs = peakRate * (1000 + meanDecodeMs);
            return (int) Math.ceil(busySeqs / (seqs * 0.7));
        }
    }

    /** The bench's day: one-minute steps. */
    static Settings full(long seed) {
        return new Settings("full", Duration.ofMinutes(1), 30, 8, 120_000, 5_000, 4 * DayDemand.MINUTE_MS,
                8 * DayDemand.MINUTE_MS, 0.40, seed);
    }

    /** The CI day: the same shape, fewer requests, two-minute steps. */
    static Settings quick(long seed) {
        return new Settings("quick", Duration.ofMinutes(2), 10, 8, 180_000, 5_000, 4 * DayDemand.MINUTE_MS,
                8 * DayDemand.MINUTE_MS, 0.40, seed);
    }

    /** Midnight of the simulated day (a Monday). */
    static final Instant MIDNIGHT = Instant.parse("2026-12-07T00:00:00Z");
    /** The simulation starts this long before midnight, so that each arm's minimum is serving when the day begins. */
    static final long LEAD_IN_MS = DayDemand.HOUR_MS;
    static final long DAY_MS = 24 * DayDemand.HOUR_MS;
    static final String RECIPE = "simday";
    private static final long TICK_WAIT_MS = 2_000;
    private static final int SUB_STEPS = 4;
    private static final long TRACE_EVERY_MS = DayDemand.HOUR_MS / 2;

    /** What one arm did. */
    record ArmResult(String arm, CapacityPolicy policy, double usd, double instanceHours, int launches,
                     int requests, int daytime, int daytimeRefused, int refused, int served, int servedInObjective,
                     int daytimeServedInObjective, Map<String, Integer> refusals, long ttftP50, long ttftP90,
                     long ttftP99, int peakServing, long wallMs, List<String> decisions) {

        double daytimeServedShare() {
            return daytime == 0 ? 1 : (daytime - daytimeRefused) / (double) daytime;
        }
    }

    private record Outcome(DayDemand.Arrival arrival, int status, String code) {
    }

    private final Settings settings;
    private final URI gateway;
    private final Fleet fleet;
    private final Dispatcher dispatcher;
    /** Where wake-on-demand decisions run (they call the provider): off the gateway's event loops. */
    private final ExecutorService waking = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "simday-wake");
        t.setDaemon(true);
        return t;
    });
    private final Vertx replicaVertx;
    private final FakeVastAi vast;
    private final List<DayDemand.Arrival> arrivals;
    private final java.util.Set<Long> resolvedIds = ConcurrentHashMap.newKeySet();
    private final AtomicInteger resolvedCount = new AtomicInteger();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    CapacityDay(Settings settings, URI gateway, Fleet fleet, Dispatcher dispatcher, Vertx replicaVertx,
                FakeVastAi vast) {
        this.settings = settings;
        this.dispatcher = dispatcher;
        this.gateway = gateway;
        this.fleet = fleet;
        this.replicaVertx = replicaVertx;
        this.vast = vast;
        this.arrivals = DayDemand.arrivals(-LEAD_IN_MS, DAY_MS, settings.peakPerMinute(), settings.meanDecodeMs(),
                settings.seed());
    }

    List<DayDemand.Arrival> arrivals() {
        return arrivals;
    }

    /** Vast.ai only, an RTX 4090 with 20 GB or more, up to $0.60/h: the cheapest offer fits both arms. */
    String offerSummary() {
        return "vastai offers: RTX 4090 24 GB $" + settings.usdPerHour() + "/h (the cheapest that fits), RTX 4090 $"
                + (settings.usdPerHour() + 0.15) + "/h, RTX 3090 $0.20/h (too small a GPU for the policy)";
    }

    /** The policy arm's policy and the always-on arm's (min = max = the peak's size), over the same constraints. */
    CapacityPolicy policy(int min, int max, Duration scaleOutWindow, double scaleInOpen, Duration scaleInWindow,
                          List<CapacityWindow> windows) {
        return new CapacityPolicy(RECIPE, min, max, List.of("vastai"), "RTX 4090", 20.0, 0.60, 1, scaleOutWindow,
                scaleInOpen, scaleInWindow, Duration.ofMinutes(2), Duration.ofMinutes(5),
                CapacityPolicy.ScaleIn.DESTROY, CapacityPolicy.Order.NEWEST, 2, Duration.ofSeconds(30), windows);
    }

    /** Weekdays 07:00-19:00 UTC keep one instance (the simulated day is a Monday). */
    static List<CapacityWindow> officeHours() {
        return List.of(CapacityWindow.parse("mon-fri", "07:00", "19:00", "UTC", 1, f -> "windows[0]." + f));
    }

    ArmResult run(String arm, CapacityPolicy policy) throws Exception {
        long wallStart = System.currentTimeMillis();
        MovableClock clock = new MovableClock(MIDNIGHT.minusMillis(LEAD_IN_MS));
        long midnight = MIDNIGHT.toEpochMilli();
        vast.reset();
        vast.offers.add(FakeVastAi.offer(201, "RTX 4090", 24564, settings.usdPerHour() + 0.15, 0.99));
        vast.offers.add(FakeVastAi.offer(202, "RTX 4090", 24564, settings.usdPerHour(), 0.99));
        vast.offers.add(FakeVastAi.offer(203, "RTX 3090", 24564, 0.20, 0.99));
        vast.createdStatus = "loading";
        vast.billing.clock = clock::millis;
        Map<Integer, SimReplica> replicas = new ConcurrentHashMap<>();
        Map<Long, Long> ttft = new ConcurrentHashMap<>();
        Map<Long, Outcome> outcomes = new ConcurrentHashMap<>();
        resolvedIds.clear();
        resolvedCount.set(0);
        SimReplica.Sink sink = (id, ms, port) -> {
            ttft.put(id, ms);
            resolved(id);
        };
        java.util.SplittableRandom launchTimes = new java.util.SplittableRandom(settings.seed() ^ 0x5eed);
        vast.onCreate = body -> {
            long launch = settings.launchMinMs() + launchTimes.nextLong(settings.launchMaxMs() - settings.launchMinMs());
            SimReplica replica = new SimReplica(replicaVertx, "fake/simday-model", settings.seqs(),
                    () -> clock.millis() - midnight, clock.millis() - midnight + launch, sink);
            replicas.put(replica.port(), replica);
            vast.instancePort = replica.port();
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<String> decisions = new ArrayList<>();
        List<String> trace = new ArrayList<>();
        ExecutorService ticker = Executors.newSingleThreadExecutor(r -> new Thread(r, "simday-capacity-" + arm));
        int peakServing = 0;
        try (ComputeHarness harness = ComputeHarness.start(Files.createTempDirectory("simday-" + arm),
                "gateway.compute.recipes." + RECIPE + ".model", "fake/simday-model",
                "gateway.compute.daily-cap-usd", "1000",
                "gateway.compute.readiness-deadline", "10m")) {
            CapacityController controller = new CapacityController(List.of(policy), harness.service, fleet, clock,
                    () -> true, (type, data) -> decisions.add(Instant.ofEpochMilli(clock.millis()) + " " + type + " "
                            + data), registry);
            // Wake on demand (item 4) through this arm's controller: a request for the route at zero asks it.
            dispatcher.wakeOnDemand(new CapacityWake(controller, waking, () -> fleet.snapshot().version()));
            Future<?> tick = null;
            int next = 0;
            int sent = 0;
            long step = settings.step().toMillis();
            for (long t = -LEAD_IN_MS; t < DAY_MS; t += step) {
                long end = t + step;
                // Requests go out and answers come back in sub-steps: the gateway's own counts of requests in
                // flight (what it routes on, and the controller's "open") then lag simulated time by a quarter step.
                for (long sub = t + step / SUB_STEPS; sub <= end; sub += step / SUB_STEPS) {
                    while (next < arrivals.size() && arrivals.get(next).atMs() < sub) {
                        send(arrivals.get(next++), outcomes);
                        sent++;
                    }
                    awaitResolved(sent);
                    clock.set(Instant.ofEpochMilli(midnight + sub));
                    for (SimReplica r : replicas.values()) {
                        r.advance(sub);
                    }
                }
                boot(replicas, end);
                harness.poll();
                awaitScrapes(replicas, end);
                peakServing = Math.max(peakServing, serving(harness));
                if (tick == null || tick.isDone()) {
                    tick = ticker.submit(controller::tick);
                }
                // A tick is a few loopback calls: it ends within the step. One that drains a busy instance for a
                // scale-in waits for requests that end only as simulated time moves on, so the day goes on meanwhile.
                try {
                    tick.get(TICK_WAIT_MS, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    // still draining
                }
                if (Math.floorMod(end, TRACE_EVERY_MS) == 0) {
                    var row = controller.view().path("policies").path(0);
                    trace.add(String.format(java.util.Locale.ROOT, "%s current %d ready %d desired %d serving %d "
                                    + "waiting/inst %s open/inst %s", Instant.ofEpochMilli(midnight + end),
                            row.path("current_instances").asInt(), row.path("ready_instances").asInt(),
                            row.path("desired_instances").asInt(), row.path("signal").path("serving").asInt(),
                            row.path("signal").path("waiting_per_instance").asText(),
                            row.path("signal").path("open_per_instance").asText()));
                }
            }
            // The day is over: no more arrivals; the requests still open finish as simulated time goes on.
            for (int k = 0; k < 200 && replicas.values().stream().anyMatch(r -> r.open() > 0); k++) {
                long now = clock.millis() - midnight + step;
                clock.set(Instant.ofEpochMilli(midnight + now));
                replicas.values().forEach(r -> r.advance(now));
                Thread.sleep(5);
            }
            if (tick != null) {
                tick.get();
            }
            long until = System.currentTimeMillis() + 10_000;
            while (outcomes.size() < arrivals.size() && System.currentTimeMillis() < until) {
                Thread.sleep(20);
            }
            for (TrackedInstance i : harness.service.all()) {
                if (i.live()) {
                    try {
                        harness.service.handover().destroy(i.name(), true, 1000, "simday", null);
                    } catch (ComputeException e) {
                        decisions.add("cleanup of " + i.name() + " failed: " + e.getMessage());
                    }
                }
            }
            controller.view().path("policies").path(0).path("decisions")
                    .forEach(d -> decisions.add("last decisions: " + d.path("time").asText() + " "
                            + d.path("action").asText() + " " + d.path("reason").asText()));
            decisions.addAll(trace);
        } finally {
            dispatcher.wakeOnDemand(WakeOnDemand.NONE);
            ticker.shutdownNow();
            replicas.values().forEach(SimReplica::close);
            vast.onCreate = null;
        }
        return result(arm, policy, outcomes, ttft, midnight, vast.billing.stretches(), peakServing,
                System.currentTimeMillis() - wallStart, decisions);
    }

    private void send(DayDemand.Arrival a, Map<Long, Outcome> outcomes) {
        String body = "{\"model\":\"simday\",\"stream\":true,\"max_tokens\":512,\"user\":\"sim:" + a.id() + ":"
                + a.atMs() + ":" + a.prefillMs() + ":" + a.decodeMs() + "\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"refactor the capacity controller, request " + a.id() + "\"}]}";
        HttpRequest request = HttpRequest.newBuilder(gateway.resolve("/v1/chat/completions"))
                .timeout(Duration.ofSeconds(120)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
            int status = error != null ? -1 : response.statusCode();
            String code = error != null ? error.getClass().getSimpleName() : status == 200 ? null
                    : errorCode(response.body());
            outcomes.put(a.id(), new Outcome(a, status, code));
            resolved(a.id());
        });
    }

    private static String errorCode(String body) {
        try {
            var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
            return json.path("error").path("code").asText(json.path("error").path("type").asText("?"));
        } catch (Exception e) {
            return "unparsed";
        }
    }

    /** Until each request sent so far reached a replica or got its answer (at most 5 s of real time). */
    private void awaitResolved(int sent) throws InterruptedException {
        long until = System.currentTimeMillis() + 5_000;
        while (resolvedCount.get() < sent && System.currentTimeMillis() < until) {
            Thread.sleep(1);
        }
    }

    /** A request reached a replica or was answered, whichever came first. */
    private void resolved(long id) {
        if (resolvedIds.add(id)) {
            resolvedCount.incrementAndGet();
        }
    }

    /** Machines whose image pull and model load are over show {@code running}: the watch registers them. */
    private void boot(Map<Integer, SimReplica> replicas, long now) {
        for (ObjectNode i : vast.instances.values()) {
            SimReplica r = replicas.get(i.path("ports").path("8000/tcp").path(0).path("HostPort").asInt());
            if (r != null && "loading".equals(i.path("actual_status").asText()) && now >= r.readyAtMs) {
                i.put("actual_status", "running");
            }
        }
    }

    /** Until the gateway read every serving replica's {@code /metrics} at this simulated time (at most 0.5 s). */
    private void awaitScrapes(Map<Integer, SimReplica> replicas, long now) throws InterruptedException {
        List<SimReplica> serving = new ArrayList<>();
        for (ObjectNode i : vast.instances.values()) {
            SimReplica r = replicas.get(i.path("ports").path("8000/tcp").path(0).path("HostPort").asInt());
            if (r != null && r.lastScrapeMs.get() != Long.MIN_VALUE
                    && "running".equals(i.path("actual_status").asText())) {
                serving.add(r);
            }
        }
        long until = System.currentTimeMillis() + 500;
        while (System.currentTimeMillis() < until && serving.stream().anyMatch(r -> r.lastScrapeMs.get() < now)) {
            Thread.sleep(2);
        }
    }

    private int serving(ComputeHarness harness) {
        return (int) harness.service.all().stream().filter(i -> RECIPE.equals(i.recipe())
                && i.state() == TrackedInstance.State.READY && fleet.find(i.name()).isPresent()).count();
    }

    private ArmResult result(String arm, CapacityPolicy policy, Map<Long, Outcome> outcomes, Map<Long, Long> ttft,
                             long midnight, List<ProviderBilling.Stretch> stretches, int peakServing, long wallMs,
                             List<String> decisions) {
        double usd = 0;
        double hours = 0;
        for (ProviderBilling.Stretch s : stretches) {
            usd += s.usdWithin(midnight, midnight + DAY_MS);
            hours += Math.max(0, Math.min(s.toMs(), midnight + DAY_MS) - Math.max(s.fromMs(), midnight))
                    / 3_600_000.0;
        }
        int requests = 0;
        int daytime = 0;
        int daytimeRefused = 0;
        int refused = 0;
        int served = 0;
        int inObjective = 0;
        int daytimeInObjective = 0;
        Map<String, Integer> refusals = new java.util.TreeMap<>();
        List<Long> ttfts = new ArrayList<>();
        for (DayDemand.Arrival a : arrivals) {
            if (a.atMs() < 0) {
                continue; // the lead-in before midnight is not part of the day
            }
            requests++;
            boolean day = DayDemand.daytime(a.atMs());
            daytime += day ? 1 : 0;
            Outcome o = outcomes.get(a.id());
            Long t = ttft.get(a.id());
            if (o != null && o.status() == 200 && t != null) {
                served++;
                ttfts.add(t);
                if (t <= settings.ttftObjectiveMs()) {
                    inObjective++;
                    daytimeInObjective += day ? 1 : 0;
                }
            } else {
                refused++;
                daytimeRefused += day ? 1 : 0;
                String why = o == null ? "no answer" : o.status() + " " + o.code();
                refusals.merge(why, 1, Integer::sum);
            }
        }
        ttfts.sort(null);
        return new ArmResult(arm, policy, usd, hours, vast.received("PUT", "/api/v0/asks/").size(), requests, daytime,
                daytimeRefused, refused, served, inObjective, daytimeInObjective, refusals, percentile(ttfts, 0.5),
                percentile(ttfts, 0.9), percentile(ttfts, 0.99), peakServing, wallMs, decisions);
    }

    private static long percentile(List<Long> sorted, double p) {
        return sorted.isEmpty() ? -1 : sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(p * sorted.size())));
    }
}
