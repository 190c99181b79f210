package org.canonic.gateway.api;

import io.vertx.core.MultiMap;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class RequestLogTest {

    @Test
    void credentialsAreMaskedEverythingElseIsKept() {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap()
                .add("Authorization", "Bearer sk-client-secret-123")
                .add("api-key", "azure-style-secret")
                .add("X-Api-Key", "another-secret")
                .add("Cookie", "session=abc")
                .add("x-session-id", "s-1");
        String logged = RequestLog.headers(headers);
        assertEquals("{Authorization=Bearer ****, api-key=****, X-Api-Key=****, Cookie=****, x-session-id=s-1}", logged);
        assertFalse(logged.contains("secret"));
    }
}
