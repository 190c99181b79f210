package org.canonic.gateway.api;

import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** One browser front end allowed (as GATEWAY_CORS_ORIGINS would say, with a trailing slash and spaces). */
public class CorsProfile implements QuarkusTestProfile {

    static final String ALLOWED = "https://chat.example.com";

    @Override
    public Map<String, String> getConfigOverrides() {
        return Map.of("gateway.cors.origins", " https://other.example.org/ , " + ALLOWED);
    }
}
