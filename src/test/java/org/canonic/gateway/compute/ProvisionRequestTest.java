package org.canonic.gateway.compute;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole numbers in a provision request are bounded as given, not as they wrap into an int. */
class ProvisionRequestTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void aNumberBeyondAnIntIsRefusedRatherThanWrapped() throws Exception {
        // 2^32 + 1 wraps to 1, which would pass the 1..10080 bound.
        for (String field : new String[]{"idle_stop_minutes", "readiness_deadline_seconds"}) {
            ComputeException refused = assertThrows(ComputeException.class, () -> ProvisionRequest.parse(
                    MAPPER.readTree("{\"provider\":\"vastai\",\"recipe\":\"main\",\"hours\":1,\"" + field
                            + "\":4294967297}"), 24));
            assertEquals(400, refused.status());
            assertTrue(refused.getMessage().contains(field), refused.getMessage());
        }
        assertEquals(90, ProvisionRequest.parse(MAPPER.readTree("{\"provider\":\"vastai\",\"recipe\":\"main\","
                + "\"hours\":1,\"idle_stop_minutes\":90}"), 24).idleStopMinutes());
    }
}
