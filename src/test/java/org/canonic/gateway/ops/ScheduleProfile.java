package org.canonic.gateway.ops;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/**
 * The schedule tests' profile (the {@code %schedule.} settings of {@link org.canonic.gateway.testing.FakeBackends}):
 * a tick of 200 ms so that windows a second or two ahead start and end within a test, room for
 * {@value #MAX_ENTRIES} entries so that the full schedule is reached quickly, and a state directory of its own so that
 * no window of these tests outlives them into another profile's gateway.
 */
public class ScheduleProfile implements QuarkusTestProfile {

    public static final int MAX_ENTRIES = 6;
    public static final long TICK_MS = 200;

    public static Map<String, String> settings() {
        return Map.of(
                "gateway.schedule.tick", TICK_MS + "ms",
                "gateway.schedule.max-entries", Integer.toString(MAX_ENTRIES));
    }

    @Override
    public String getConfigProfile() {
        return "schedule";
    }
}
