package org.canonic.gateway.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class MillisDurationConverterTest {

    private final MillisDurationConverter converter = new MillisDurationConverter();

    @Test
    void bareNumbersAreMillisecondsLikeTheDeploymentVariables() {
        assertEquals(Duration.ofMillis(30000), converter.convert("30000"));
        assertEquals(Duration.ofMillis(250), converter.convert(" 250 "));
    }

    @Test
    void unitsAndIsoDurationsWorkToo() {
        assertEquals(Duration.ofSeconds(15), converter.convert("15s"));
        assertEquals(Duration.ofMillis(500), converter.convert("500ms"));
        assertEquals(Duration.ofMinutes(2), converter.convert("PT2M"));
    }

    @Test
    void emptyMeansUnset() {
        assertNull(converter.convert(""));
    }
}
