package org.canonic.gateway.compute;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.canonic.gateway.coordination.EventTypes;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Lists every configured provider and compares with what is tracked; reports, never touches. A listed instance is
 * known only by its provider id: a second machine carrying a tracked label under another id bills just the same, so
 * it is a leak. An instance whose label is a launch still in flight or looked up ({@link CreateLookup}) is left to
 * that lookup. A provider whose list fails is an unknown, never "no instances": its last leak count stays in the
 * {@code gateway.compute.leaks} gauge (an alert on leaks must not clear exactly when the API drifts) and
 * {@code gateway.compute.list.errors{provider}} counts the failure.
 */
final class LeakWatch {

    private static final Logger LOG = Logger.getLogger(LeakWatch.class);

    private final ComputeService s;
    private final MeterRegistry registry;
    private final AtomicInteger leakCount = new AtomicInteger();
    /** The last count per provider, from its last list that worked. */
    private final Map<String, Integer> leaksByProvider = new ConcurrentHashMap<>();
    private final Set<String> reportedLeaks = new HashSet<>();
    private volatile ObjectNode lastReport;

    LeakWatch(ComputeService service, MeterRegistry registry) {
        this.s = service;
        this.registry = registry;
        registry.gauge("gateway.compute.leaks", leakCount);
    }

    ObjectNode reconcile() {
        ObjectNode report = s.mapper.createObjectNode();
        report.put("checked_at", Instant.now().toString());
        ArrayNode leaks = report.putArray("leaks");
        ArrayNode errors = report.putArray("errors");
        List<TrackedInstance> tracked = s.all();
        for (ComputeProvider p : s.providers().values()) {
            if (!p.configured()) {
                continue;
            }
            List<InstanceInfo> listed;
            try {
                listed = p.list();
            } catch (ComputeException e) {
                errors.addObject().put("provider", p.name()).put("code", e.code()).put("message", e.getMessage());
                Counter.builder("gateway.compute.list.errors").description("Provider instance lists that failed or"
                        + " answered an odd shape").tag("provider", p.name()).register(registry).increment();
                continue;
            }
            int before = leaks.size();
            Set<String> listedIds = new HashSet<>();
            for (InstanceInfo i : listed) {
                listedIds.add(i.id());
                if (known(tracked, p.name(), i)) {
                    continue;
                }
                ObjectNode leak = leaks.addObject().put("kind", "untracked").put("provider", p.name())
                        .put("provider_id", i.id()).put("label", i.label()).put("provider_status", i.providerStatus())
                        .put("billing", i.status() == InstanceInfo.Status.STOPPED ? "storage" : "running");
                tracked.stream().filter(t -> t.provider().equals(p.name()) && t.name().equals(i.label())).findFirst()
                        .ifPresent(t -> leak.put("instance", t.name()).put("instance_state",
                                t.state().name().toLowerCase(java.util.Locale.ROOT)));
            }
            for (TrackedInstance t : tracked) {
                if (t.provider().equals(p.name()) && t.live() && t.providerId() != null
                        && t.state() != TrackedInstance.State.PROVISIONING && !listedIds.contains(t.providerId())) {
                    leaks.addObject().put("kind", "tracked_but_gone").put("provider", p.name())
                            .put("provider_id", t.providerId()).put("instance", t.name());
                }
            }
            leaksByProvider.put(p.name(), leaks.size() - before);
        }
        leakCount.set(leaksByProvider.values().stream().mapToInt(Integer::intValue).sum());
        report.put("leak_count", leakCount.get());
        synchronized (reportedLeaks) {
            leaks.forEach(leak -> {
                String id = leak.path("kind").asText() + ":" + leak.path("provider").asText() + ":"
                        + leak.path("provider_id").asText();
                if (reportedLeaks.add(id)) {
                    LOG.warnf("Compute leak watch: %s", leak);
                    s.webhooks.publish(EventTypes.COMPUTE_LEAK_FOUND, s.mapper.convertValue(leak,
                            new TypeReference<Map<String, Object>>() {
                            }));
                }
            });
        }
        errors.forEach(e -> LOG.errorf("Compute leak watch could not list %s: %s", e.path("provider").asText(),
                e.path("message").asText()));
        lastReport = report;
        return report;
    }

    /**
     * Tracked by its provider id; or carrying the label of a launch that has no id yet and is still in flight or
     * looked up ({@link CreateLookup} adopts it). A launch a replica that died never resolved stops shielding its
     * label once the lookup window has passed, so its machine is reported.
     */
    private boolean known(List<TrackedInstance> tracked, String provider, InstanceInfo i) {
        long now = s.clock.millis();
        long window = s.config.createLookupWindow().toMillis();
        return tracked.stream().anyMatch(t -> t.provider().equals(provider) && t.live()
                && (i.id().equals(t.providerId())
                || t.providerId() == null && t.state() == TrackedInstance.State.PROVISIONING
                && t.name().equals(i.label())
                && now < Math.max(t.lookupUntilMs, t.createdAt.toEpochMilli() + window)));
    }

    ObjectNode lastReport() {
        return lastReport;
    }
}
