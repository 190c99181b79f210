package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import org.canonic.gateway.coordination.StateDirectory;
import org.canonic.gateway.state.StateStore;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * How long launches of each recipe on each provider took from the intent to serving: the last {@value #KEPT} of
 * each, learned as instances become ready, and their median as the expected time to ready that a request waking a
 * route at zero is told ({@code Retry-After}). Kept where the other compute state is: {@value #FILE} in the state
 * directory for one gateway ({@code {"main/vastai":[412000,388000]}}, newest last), a list per recipe and provider
 * on Redis ({@code <prefix>:readiness-times:<recipe>:<provider>}, newest first) when replicas share state, so that
 * every replica promises what the leader saw. Best effort: a time that cannot be written is logged and kept in memory
 * (a wrong promise of a few minutes is no reason to fail anything).
 */
public final class ReadinessTimes {

    public static final String FILE = "readiness-times.json";
    /** Launches remembered per recipe and provider: recent enough to follow a provider that got slower. */
    static final int KEPT = 5;
    private static final Logger LOG = Logger.getLogger(ReadinessTimes.class);

    private final StateDirectory state;
    private final ObjectMapper mapper;
    private final StateStore store;
    private final Map<String, Deque<Long>> local = new TreeMap<>();

    ReadinessTimes(StateDirectory state, ObjectMapper mapper, StateStore store) {
        this.state = state;
        this.mapper = mapper;
        this.store = store.shared() ? store : null;
        try {
            state.read(FILE).ifPresent(bytes -> {
                try {
                    JsonNode root = mapper.readTree(bytes);
                    root.fields().forEachRemaining(e -> {
                        Deque<Long> times = new ArrayDeque<>();
                        e.getValue().forEach(v -> {
                            if (v.canConvertToLong() && v.longValue() > 0) {
                                times.addLast(v.longValue());
                            }
                        });
                        local.put(e.getKey(), times);
                    });
                } catch (IOException | RuntimeException e) {
                    // Only a promise is lost: the configured default applies until the next launch is seen.
                    LOG.warnf("Compute: %s cannot be read (%s); expected times to ready start over",
                            state.resolve(FILE), e.toString());
                }
            });
        } catch (IOException e) {
            LOG.warnf("Compute: %s cannot be read (%s); expected times to ready start over", state.resolve(FILE),
                    e.toString());
        }
    }

    private static String key(String recipe, String provider) {
        return recipe + "/" + provider;
    }

    /** Remembers that a launch of {@code recipe} on {@code provider} took {@code ms} to serve. */
    public void record(String recipe, String provider, long ms) {
        if (ms <= 0) {
            return;
        }
        synchronized (this) {
            Deque<Long> times = local.computeIfAbsent(key(recipe, provider), k -> new ArrayDeque<>());
            times.addLast(ms);
            while (times.size() > KEPT) {
                times.removeFirst();
            }
        }
        if (store != null) {
            try {
                String list = store.key("readiness-times:" + recipe + ":" + provider);
                store.call(Command.LPUSH, list, ms);
                store.call(Command.LTRIM, list, 0, KEPT - 1);
            } catch (RuntimeException e) {
                LOG.warnf("Compute: the time to ready of %s on %s could not be shared (%s)", recipe, provider,
                        e.toString());
            }
            return;
        }
        ObjectNode root = mapper.createObjectNode();
        synchronized (this) {
            local.forEach((k, times) -> times.forEach(root.withArray(k)::add));
        }
        try {
            state.writeAtomically(FILE, mapper.writeValueAsBytes(root));
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Compute: %s could not be written (%s); the time is kept until a restart", state.resolve(FILE),
                    e.toString());
        }
    }

    /** The median of the launches seen of {@code recipe} on {@code provider}, or empty before the first. */
    public OptionalLong expectedMs(String recipe, String provider) {
        List<Long> times = new ArrayList<>();
        if (store != null) {
            try {
                Response list = store.call(Command.LRANGE, store.key("readiness-times:" + recipe + ":" + provider),
                        0, KEPT - 1);
                if (list != null) {
                    list.forEach(r -> times.add(r.toLong()));
                }
            } catch (RuntimeException e) {
                LOG.debugf("Compute: shared times to ready unavailable (%s); this replica's own", e.toString());
            }
        }
        if (times.isEmpty()) {
            synchronized (this) {
                times.addAll(local.getOrDefault(key(recipe, provider), new ArrayDeque<>()));
            }
        }
        if (times.isEmpty()) {
            return OptionalLong.empty();
        }
        times.sort(null);
        int n = times.size();
        // The upper median of an even count: a promise a little long is kinder than one that is broken.
        return OptionalLong.of(times.get(n / 2));
    }
}
