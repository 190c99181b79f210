package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import org.canonic.gateway.coordination.StateDirectory;
import org.canonic.gateway.state.StateStore;
import org.canonic.gateway.state.StateStoreConfig;
import org.canonic.gateway.testing.RedisServer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Learned times to ready: the median of the last launches, kept across restarts, shared between replicas. */
class ReadinessTimesTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void theMedianOfTheLastLaunchesSurvivesARestartInTheStateDirectory() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            Path dir = Files.createTempDirectory("times");
            StateStore embedded = new StateStore(vertx, StateStoreConfig.Kind.EMBEDDED, Optional.empty(),
                    Duration.ofSeconds(1), "gateway", "a", 1000);
            ReadinessTimes times = new ReadinessTimes(new StateDirectory(dir), MAPPER, embedded);
            assertEquals(OptionalLong.empty(), times.expectedMs("main", "vastai"), "nothing seen yet");
            times.record("main", "vastai", 400_000);
            times.record("main", "vastai", 200_000);
            times.record("main", "vastai", 300_000);
            times.record("main", "runpod", 90_000);
            assertEquals(OptionalLong.of(300_000), times.expectedMs("main", "vastai"));

            ReadinessTimes restarted = new ReadinessTimes(new StateDirectory(dir), MAPPER, embedded);
            assertEquals(OptionalLong.of(300_000), restarted.expectedMs("main", "vastai"), "kept across a restart");
            assertEquals(OptionalLong.of(90_000), restarted.expectedMs("main", "runpod"), "per provider");
            for (int i = 0; i < ReadinessTimes.KEPT; i++) {
                restarted.record("main", "vastai", 60_000);
            }
            assertEquals(OptionalLong.of(60_000), restarted.expectedMs("main", "vastai"), "only the last launches");

            Files.writeString(dir.resolve(ReadinessTimes.FILE), "{not json");
            assertEquals(OptionalLong.empty(), new ReadinessTimes(new StateDirectory(dir), MAPPER, embedded)
                    .expectedMs("main", "vastai"), "a damaged file only loses the promise: the default applies");
        } finally {
            vertx.close();
        }
    }

    @Test
    void replicasOnRedisShareWhatTheLeaderLearned() throws Exception {
        Vertx vertx = Vertx.vertx();
        try (RedisServer redis = RedisServer.start()) {
            StateStore a = redis.store(vertx, "times", "a", Duration.ofSeconds(1));
            StateStore b = redis.store(vertx, "times", "b", Duration.ofSeconds(1));
            ReadinessTimes onA = new ReadinessTimes(new StateDirectory(Files.createTempDirectory("a")), MAPPER, a);
            ReadinessTimes onB = new ReadinessTimes(new StateDirectory(Files.createTempDirectory("b")), MAPPER, b);
            onA.record("main", "vastai", 120_000);
            onA.record("main", "vastai", 180_000);
            assertEquals(OptionalLong.of(180_000), onB.expectedMs("main", "vastai"), "the upper median of two");
            assertEquals(OptionalLong.empty(), onB.expectedMs("main", "runpod"));
        } finally {
            vertx.close();
        }
    }
}
