package org.canonic.gateway.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class UpstreamEndpointTest {

    @Test
    void anOpenAiBaseUrlWithOrWithoutV1MeansTheSameBackend() {
        assertEquals(UpstreamEndpoint.parse("http://10.0.0.5:8000/v1"), UpstreamEndpoint.parse("http://10.0.0.5:8000"));
        assertEquals(UpstreamEndpoint.parse("http://10.0.0.5:8000/v1/"), UpstreamEndpoint.parse("http://10.0.0.5:8000/"));
    }

    @Test
    void runPodServerlessUrlsKeepTheirPathAndHealthLivesAtTheEndpointRoot() {
        UpstreamEndpoint runpod = UpstreamEndpoint.parse("https://api.runpod.ai/v2/abc123/openai/v1");
        assertEquals(true, runpod.ssl());
        assertEquals(443, runpod.port());
        assertEquals("/v2/abc123/openai/v1/chat/completions", runpod.apiPath("/chat/completions"));
        assertEquals("/v2/abc123/openai/health", runpod.rootPath("/health"));
        assertEquals("https://api.runpod.ai:443", runpod.origin());
    }

    @Test
    void vllmServesHealthOutsideV1() {
        assertEquals("/health", UpstreamEndpoint.parse("http://10.0.0.5:8000/v1").rootPath("/health"));
    }

    @Test
    void urlsThatCouldCarryCredentialsOrAreNotHttpAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> UpstreamEndpoint.parse("http://u:p@host/v1"));
        assertThrows(IllegalArgumentException.class, () -> UpstreamEndpoint.parse("http://host/v1?key=abc"));
        assertThrows(IllegalArgumentException.class, () -> UpstreamEndpoint.parse("ftp://host/v1"));
        assertThrows(IllegalArgumentException.class, () -> UpstreamEndpoint.parse("not a url"));
        assertThrows(IllegalArgumentException.class, () -> UpstreamEndpoint.parse("http:///v1"));
    }
}
