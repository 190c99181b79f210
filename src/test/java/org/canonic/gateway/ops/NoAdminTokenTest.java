package org.canonic.gateway.ops;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.canonic.gateway.testing.FakeBackends;
import org.junit.jupiter.api.Test;

import java.net.URL;
import java.net.http.HttpResponse;
import java.util.List;

import static org.canonic.gateway.ops.AdminClient.error;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Without a configured admin token the admin API does not exist: every /admin path is an OpenAI-shaped 404. */
@QuarkusTest
@TestProfile(NoAdminTokenProfile.class)
class NoAdminTokenTest {

    @TestHTTPResource("/")
    URL url;

    @Test
    void everyAdminPathAnswers404WhateverIsSent() throws Exception {
        AdminClient client = new AdminClient(url.toURI());
        List<String[]> calls = List.of(new String[]{"GET", "/admin/lock"}, new String[]{"POST", "/admin/lock"},
                new String[]{"DELETE", "/admin/lock?force=true"}, new String[]{"PUT", "/admin/lock/renew"},
                new String[]{"GET", "/admin/backends"}, new String[]{"GET", "/admin/anything/else"},
                new String[]{"GET", "/admin"});
        for (String[] call : calls) {
            for (String authorization : new String[]{null, "Bearer " + FakeBackends.ADMIN_TOKEN}) {
                String body = call[0].equals("POST") || call[0].equals("PUT") ? "{\"holder\":\"x\"}" : null;
                HttpResponse<String> answer = authorization == null ? client.send(call[0], call[1], body)
                        : client.send(call[0], call[1], body, "authorization", authorization);
                assertEquals(404, answer.statusCode(), call[0] + " " + call[1] + ": " + answer.body());
                assertEquals("not_found", error(answer).get("code").asText());
            }
        }
    }
}
