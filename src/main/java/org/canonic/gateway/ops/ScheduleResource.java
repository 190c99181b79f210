package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.MaintenanceLock;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.schedule.Schedule;
import org.canonic.gateway.schedule.ScheduleEntry;
import org.canonic.gateway.schedule.ScheduleException;
import org.canonic.gateway.schedule.ScheduleRequest;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * The schedule registry's admin API, behind the admin bearer token ({@link AdminAuth}):
 * <ul>
 *   <li>{@code GET /admin/schedule} ({@code ?from=&to=&target=&kind=}): {@code {"object":"list","data":[...]}},
 *       sorted by {@code starts_at}; an entry is listed when its window overlaps {@code [from, to)};</li>
 *   <li>{@code POST /admin/schedule}: announces an entry (201, {@code Location});</li>
 *   <li>{@code GET /admin/schedule/{id}}: one entry; {@code DELETE /admin/schedule/{id}}: removes it (an active
 *       maintenance window ends at once) and answers with it as it was.</li>
 * </ul>
 * Changes are made under the maintenance lock and audited ({@code schedule.create}, {@code schedule.delete}) through
 * {@link AuditedChange}, like every admin change; refusals are OpenAI-shaped with the field at fault in {@code param}.
 */
@Path("/admin/schedule")
@Produces(MediaType.APPLICATION_JSON)
public class ScheduleResource {

    @Inject
    Schedule schedule;

    @Inject
    AdminAuth auth;

    @Inject
    AuditedChange audited;

    @Inject
    ObjectMapper mapper;

    @GET
    public Response list(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                         @QueryParam("from") String from, @QueryParam("to") String to,
                         @QueryParam("target") String target, @QueryParam("kind") String kind) {
        auth.require(authorization, request);
        try {
            Instant start = instant(from, "from");
            Instant end = instant(to, "to");
            if (start != null && end != null && !end.isAfter(start)) {
                throw ScheduleException.invalid("to", "'to' must be after 'from'.");
            }
            String targetFilter = blank(target) ? null : target;
            if (targetFilter != null && !ScheduleRequest.TARGET.matcher(targetFilter).matches()) {
                throw ScheduleException.invalid("target", "'target' must be 1 to " + ScheduleRequest.MAX_TARGET
                        + " characters of A-Z a-z 0-9 . _ : / -.");
            }
            ScheduleEntry.Kind kindFilter = blank(kind) ? null : kind(kind);
            ObjectNode answer = mapper.createObjectNode();
            answer.put("object", "list");
            ArrayNode data = answer.putArray("data");
            schedule.list(start, end, targetFilter, kindFilter).forEach(entry -> data.add(entry.toJson(mapper)));
            return Response.ok(answer).build();
        } catch (ScheduleException e) {
            return error(e);
        }
    }

    @GET
    @Path("/{id}")
    public Response one(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                        @PathParam("id") String id) {
        auth.require(authorization, request);
        return schedule.find(id).map(entry -> Response.ok(entry.toJson(mapper)).build())
                .orElseGet(() -> error(Schedule.notFound(id)));
    }

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response create(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                           @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                           @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, String body) {
        auth.require(authorization, request);
        if (body != null && body.getBytes(StandardCharsets.UTF_8).length > ScheduleRequest.MAX_BODY_BYTES) {
            // Refused before the lock: nothing of it is read, so there is nothing to change or audit.
            return error(new ScheduleException(413, ScheduleException.TOO_LARGE, null, "The request body exceeds "
                    + ScheduleRequest.MAX_BODY_BYTES + " bytes."));
        }
        String caller = AuditLog.caller(actor);
        return changed("schedule.create", null, actor, token, null, fencing -> {
            ScheduleEntry entry = ScheduleRequest.parse(mapper, body, schedule.now(), schedule.settings(),
                    schedule::backendExists, caller);
            ScheduleEntry created = schedule.create(entry);
            // A window that starts now should not wait for the next tick.
            schedule.nudge();
            return Response.created(URI.create("/admin/schedule/" + created.id())).entity(created.toJson(mapper))
                    .build();
        });
    }

    @DELETE
    @Path("/{id}")
    public Response delete(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                           @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                           @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @PathParam("id") String id) {
        auth.require(authorization, request);
        JsonNode before = schedule.find(id).map(entry -> (JsonNode) entry.toJson(mapper)).orElse(null);
        String target = OpenAiError.echo(id, 64);
        return changed("schedule.delete", target, actor, token, before,
                fencing -> Response.ok(schedule.delete(id).toJson(mapper)).build());
    }

    /** A change under the maintenance lock, audited; a refused one answers with its error and changes nothing. */
    private Response changed(String action, String target, String actor, String token, JsonNode before,
                             java.util.function.Function<Long, Response> change) {
        return audited.make(action, target, actor, token, before, change,
                e -> e instanceof ScheduleException refused
                        ? new AuditedChange.Refused(refused.code(), error(refused)) : null,
                after -> after == null ? null : after.path("id").asText(null));
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }

    private static Instant instant(String value, String param) {
        if (blank(value)) {
            return null;
        }
        try {
            return ScheduleRequest.parseInstant(value.strip());
        } catch (DateTimeParseException e) {
            throw ScheduleException.invalid(param, "'" + param + "' must be an ISO-8601 instant such as "
                    + "2026-12-07T10:00:00Z.");
        }
    }

    private static ScheduleEntry.Kind kind(String value) {
        for (ScheduleEntry.Kind kind : ScheduleEntry.Kind.values()) {
            if (kind.json().equals(value.strip())) {
                return kind;
            }
        }
        throw ScheduleException.invalid("kind", "'kind' must be one of maintenance, model_swap, reservation, "
                + "capacity.");
    }

    private static Response error(ScheduleException e) {
        OpenAiError error = e.status() >= 500 ? OpenAiError.server(e.status(), e.getMessage(), e.code())
                : OpenAiError.invalidRequest(e.status(), e.getMessage(), e.param(), e.code());
        return AdminErrors.respond(error, 0);
    }
}
