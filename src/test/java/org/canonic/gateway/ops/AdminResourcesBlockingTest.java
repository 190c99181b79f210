package org.canonic.gateway.ops;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link AdminGate} reads an admin body before RESTEasy and hands it over with {@code RoutingContext.setBody}, which
 * RESTEasy reads for blocking resource methods (the default for methods returning {@code Response}). A non-blocking
 * one ({@code @NonBlocking}, {@code Uni}, {@code CompletionStage}) would get an empty body instead: no admin resource
 * may be one. Read from the sources, so an admin endpoint added later is checked too.
 */
class AdminResourcesBlockingTest {

    private static final Pattern ADMIN_RESOURCE = Pattern.compile("@Path\\(\"/admin");
    private static final Pattern NON_BLOCKING = Pattern.compile("@NonBlocking|@RunOnVirtualThread|\\bUni<|"
            + "\\bCompletionStage<|\\bCompletableFuture<|\\bMulti<");

    @Test
    void everyAdminResourceIsBlocking() throws IOException {
        List<Path> admin;
        try (Stream<Path> files = Files.walk(Path.of("src/main/java/org/canonic/gateway"))) {
            admin = files.filter(f -> f.toString().endsWith(".java")).filter(f -> {
                try {
                    return ADMIN_RESOURCE.matcher(Files.readString(f)).find();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }).toList();
        }
        assertTrue(admin.size() >= 5, "the admin resources were found: " + admin);
        List<Path> nonBlocking = admin.stream().filter(f -> {
            try {
                return NON_BLOCKING.matcher(Files.readString(f)).find();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }).toList();
        assertEquals(List.of(), nonBlocking, "admin resources must be blocking: AdminGate has read their body");
    }
}
