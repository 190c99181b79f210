package org.canonic.gateway.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.usage.GroupBy;
import org.canonic.gateway.usage.UsageRendering;
import org.canonic.gateway.usage.UsageReport;
import org.canonic.gateway.usage.UsageService;

import java.util.EnumSet;

/**
 * {@code GET /admin/usage?from=&to=&group_by=key|route|backend|model|day} (admin token): requests, errors by class,
 * tokens, TTFT percentiles and cost per group over a period, from the usage aggregate; {@code Accept: text/csv} for
 * a spreadsheet. Read-only, so no lock.
 */
@Path("/admin/usage")
public class UsageResource {

    @Inject
    AdminAuth auth;

    @Inject
    UsageService usage;

    @Inject
    ObjectMapper mapper;

    @GET
    public Response usage(@HeaderParam("Authorization") String authorization, @HeaderParam("Accept") String accept,
                          @Context HttpServerRequest request, @QueryParam("from") String from,
                          @QueryParam("to") String to, @QueryParam("group_by") String groupBy) {
        auth.require(authorization, request);
        UsageReport report;
        try {
            report = usage.report(from, to, groupBy, GroupBy.KEY, EnumSet.allOf(GroupBy.class), null);
        } catch (UsageService.BadQuery bad) {
            return AdminErrors.respond(bad.error(), 0);
        }
        if (accept != null && accept.toLowerCase(java.util.Locale.ROOT).contains("text/csv")) {
            return Response.ok(UsageRendering.csv(report), "text/csv; charset=utf-8").build();
        }
        return Response.ok(UsageRendering.json(report, mapper, true), MediaType.APPLICATION_JSON).build();
    }
}
