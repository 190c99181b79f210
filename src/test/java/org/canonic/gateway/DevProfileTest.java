package org.canonic.gateway;

import org.junit.jupiter.api.Test;

import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dev profile answers without client keys, so it must never listen beyond this computer: neither the API nor
 * the management interface. Read from application.properties, since tests never boot the dev profile.
 */
class DevProfileTest {

    @Test
    void theKeylessDevProfileListensOnLoopbackOnly() throws Exception {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of("src/main/resources/application.properties"))) {
            properties.load(reader);
        }
        assertEquals("none", properties.getProperty("%dev.gateway.auth.mode"), "the premise: dev has no keys");
        assertEquals("127.0.0.1", properties.getProperty("%dev.quarkus.http.host"));
        assertEquals("127.0.0.1", properties.getProperty("%dev.quarkus.management.host"));
        assertTrue(Boolean.parseBoolean(properties.getProperty("quarkus.management.enabled")));
    }
}
