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
import org.canonic.gateway.compute.ComputeException;
import org.canonic.gateway.compute.ComputeProvider;
import org.canonic.gateway.compute.ComputeService;
import org.canonic.gateway.compute.ComputeWatch;
import org.canonic.gateway.compute.Offer;
import org.canonic.gateway.compute.ProvisionRequest;
import org.canonic.gateway.compute.VllmArgs;
import org.canonic.gateway.compute.TrackedInstance;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.coordination.AuditLog;
import org.canonic.gateway.coordination.MaintenanceLock;
import org.canonic.gateway.relay.OpenAiError;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Governed compute's admin API, behind the admin token, with every mutation under the maintenance lock and audited
 * (like {@link AdminBackendsResource}):
 * <ul>
 *   <li>{@code GET /admin/compute/offers?provider=&gpu=&num_gpus=&min_vram_gb=&max_usd_per_hour=}</li>
 *   <li>{@code POST /admin/compute/instances}: estimate, tier, launch (201)</li>
 *   <li>{@code GET /admin/compute/instances}: tracked instances with provider status, $/h and spend</li>
 *   <li>{@code POST /admin/compute/instances/{id}/stop|start|reconfigure}, {@code DELETE .../{id}}
 *       ({@code ?force=true&deadline_seconds=n}): 409 while the backend serves unless forced</li>
 *   <li>{@code GET /admin/compute/spend}, {@code GET /admin/compute/leaks?refresh=true}</li>
 *   <li>{@code GET /admin/compute/serverless/{endpoint_id}}: a RunPod serverless endpoint's health</li>
 * </ul>
 */
@Path("/admin/compute")
@Produces(MediaType.APPLICATION_JSON)
public class ComputeResource {

    @Inject
    ComputeService compute;

    @Inject
    ComputeWatch watch;

    @Inject
    GatewayConfig config;

    @Inject
    AdminAuth auth;

    @Inject
    AuditedChange audited;

    @Inject
    ObjectMapper mapper;

    @GET
    @Path("/offers")
    public Response offers(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                           @QueryParam("provider") String provider, @QueryParam("gpu") String gpu,
                           @QueryParam("num_gpus") Integer numGpus, @QueryParam("min_vram_gb") Double minVram,
                           @QueryParam("max_usd_per_hour") Double maxUsd,
                           @QueryParam("min_reliability") Double minReliability,
                           @QueryParam("verified") Boolean verified) {
        auth.require(authorization, request);
        return answer(() -> {
            List<Offer> offers = compute.offers(provider == null ? "vastai" : provider,
                    new ComputeProvider.OfferQuery(gpu, numGpus, minVram, maxUsd, minReliability, verified, null));
            ObjectNode answer = mapper.createObjectNode();
            ArrayNode list = answer.putArray("offers");
            for (Offer o : offers) {
                list.addObject().put("provider", o.provider()).put("id", o.id()).put("gpu", o.gpuName())
                        .put("num_gpus", o.numGpus()).put("vram_gb", o.vramGb()).put("usd_per_hour", o.usdPerHour())
                        .put("reliability", o.reliability())
                        .put("storage_usd_per_gb_month", o.storageUsdPerGbMonth()).set("raw", o.raw());
            }
            return Response.ok(answer).build();
        });
    }

    @GET
    @Path("/instances")
    public Response instances(@HeaderParam("Authorization") String authorization,
                              @Context HttpServerRequest request) {
        auth.require(authorization, request);
        ObjectNode answer = mapper.createObjectNode();
        ArrayNode list = answer.putArray("instances");
        compute.all().forEach(i -> list.add(compute.view(i)));
        ArrayNode providers = answer.putArray("providers");
        compute.providers().values().forEach(p -> providers.add(p.describe()));
        answer.set("leak_watch", watch.lastLeakReport());
        return Response.ok(answer).build();
    }

    @GET
    @Path("/instances/{id}")
    public Response instance(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                             @PathParam("id") String id) {
        auth.require(authorization, request);
        return answer(() -> Response.ok(compute.view(compute.find(id))).build());
    }

    @POST
    @Path("/instances")
    @Consumes(MediaType.WILDCARD)
    public Response provision(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                              @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                              @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, String body) {
        auth.require(authorization, request);
        String caller = AuditLog.caller(actor);
        return changed("compute.provision", null, actor, token, fencing -> {
            ProvisionRequest parsed = ProvisionRequest.parse(parse(body), config.compute().maxHours());
            return Response.status(201).entity(compute.provision(parsed, caller, fencing)).build();
        });
    }

    /** The estimate and cost-guard tier of a provision body, nothing launched or reserved: not a change, so no lock. */
    @POST
    @Path("/estimate")
    @Consumes(MediaType.WILDCARD)
    public Response estimate(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                             String body) {
        auth.require(authorization, request);
        return answer(() -> Response.ok(compute.estimate(ProvisionRequest.parse(parse(body),
                config.compute().maxHours()))).build());
    }

    @POST
    @Path("/instances/{id}/stop")
    @Consumes(MediaType.WILDCARD)
    public Response stop(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                         @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                         @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @PathParam("id") String id,
                         @QueryParam("force") boolean force, @QueryParam("deadline_seconds") Long deadline) {
        auth.require(authorization, request);
        String caller = AuditLog.caller(actor);
        return changed("compute.stop", id, actor, token, fencing -> Response.ok(compute.handover().stop(id, force,
                drainMs(deadline), caller, fencing)).build());
    }

    @POST
    @Path("/instances/{id}/start")
    @Consumes(MediaType.WILDCARD)
    public Response start(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                          @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                          @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @PathParam("id") String id) {
        auth.require(authorization, request);
        String caller = AuditLog.caller(actor);
        return changed("compute.start", id, actor, token, fencing -> Response.ok(compute.handover().start(id, caller,
                fencing)).build());
    }

    @POST
    @Path("/instances/{id}/reconfigure")
    @Consumes(MediaType.WILDCARD)
    public Response reconfigure(@HeaderParam("Authorization") String authorization,
                                @Context HttpServerRequest request, @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                                @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @PathParam("id") String id,
                                @QueryParam("force") boolean force, @QueryParam("deadline_seconds") Long deadline,
                                String body) {
        auth.require(authorization, request);
        String caller = AuditLog.caller(actor);
        return changed("compute.reconfigure", id, actor, token, fencing -> {
            JsonNode args = parse(body).get("args");
            List<String> extra = new ArrayList<>();
            if (args == null || !args.isArray()) {
                throw new ComputeException(400, "invalid_body", "args must be a list of extra vLLM arguments,"
                        + " e.g. [\"--max-num-seqs\",\"64\"]; --model, --port and --api-key are the recipe's.");
            }
            for (JsonNode a : args) {
                if (!a.isTextual()) {
                    throw new ComputeException(400, "invalid_body", "args must be a list of strings.");
                }
                extra.add(a.asText());
            }
            return Response.ok(compute.handover().reconfigure(id, VllmArgs.extra(extra), force, drainMs(deadline),
                    caller, fencing)).build();
        });
    }

    @DELETE
    @Path("/instances/{id}")
    public Response destroy(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                            @HeaderParam(AuditLog.ACTOR_HEADER) String actor,
                            @HeaderParam(MaintenanceLock.TOKEN_HEADER) String token, @PathParam("id") String id,
                            @QueryParam("force") boolean force, @QueryParam("deadline_seconds") Long deadline) {
        auth.require(authorization, request);
        String caller = AuditLog.caller(actor);
        return changed("compute.destroy", id, actor, token, fencing -> Response.ok(compute.handover().destroy(id,
                force, drainMs(deadline), caller, fencing)).build());
    }

    @GET
    @Path("/serverless/{endpoint_id}")
    public Response serverless(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                               @PathParam("endpoint_id") String endpointId) {
        auth.require(authorization, request);
        return answer(() -> Response.ok(compute.serverlessHealth(endpointId)).build());
    }

    @GET
    @Path("/spend")
    public Response spend(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request) {
        auth.require(authorization, request);
        return Response.ok(compute.spend()).build();
    }

    @GET
    @Path("/leaks")
    public Response leaks(@HeaderParam("Authorization") String authorization, @Context HttpServerRequest request,
                          @QueryParam("refresh") boolean refresh) {
        auth.require(authorization, request);
        ObjectNode report = refresh || watch.lastLeakReport() == null ? watch.reconcile() : watch.lastLeakReport();
        return Response.ok(report).build();
    }

    /** A mutation under the maintenance lock, audited with the instance's view before and after. */
    private Response changed(String action, String target, String actor, String token,
                             Function<Long, Response> change) {
        return audited.make(action, target, actor, token, target == null ? null : viewOf(target), change,
                e -> e instanceof ComputeException refused ? new AuditedChange.Refused(refused.code(), error(refused))
                        : null, after -> after.path("instance").path("id").asText(null));
    }

    private Response answer(java.util.function.Supplier<Response> call) {
        try {
            return call.get();
        } catch (ComputeException e) {
            return error(e);
        }
    }

    private JsonNode viewOf(String id) {
        try {
            TrackedInstance instance = compute.find(id);
            return compute.view(instance);
        } catch (ComputeException e) {
            return null;
        }
    }

    private long drainMs(Long deadlineSeconds) {
        if (deadlineSeconds == null) {
            return config.drainDeadline().toMillis();
        }
        if (deadlineSeconds < 1 || deadlineSeconds > 24 * 3600) {
            throw new ComputeException(400, "invalid_body", "deadline_seconds must be between 1 and 86400.");
        }
        return deadlineSeconds * 1000;
    }

    private JsonNode parse(String body) {
        if (body == null || body.isBlank()) {
            return mapper.createObjectNode();
        }
        try {
            return AdminJson.read(mapper, body);
        } catch (Exception e) {
            throw new ComputeException(400, "invalid_body", AdminJson.problem(e));
        }
    }

    /** OpenAI-shaped, with the estimate (or other facts) the refusal carries. */
    private Response error(ComputeException e) {
        OpenAiError error = e.status() >= 500 ? OpenAiError.server(e.status(), e.getMessage(), e.code())
                : OpenAiError.invalidRequest(e.status(), e.getMessage(), null, e.code());
        if (e.details() == null) {
            return AdminErrors.respond(error, 0);
        }
        try {
            ObjectNode json = (ObjectNode) mapper.readTree(error.toJson());
            ((ObjectNode) json.get("error")).setAll((ObjectNode) e.details());
            return Response.status(e.status()).type(MediaType.APPLICATION_JSON).entity(json).build();
        } catch (Exception parse) {
            return AdminErrors.respond(error, 0);
        }
    }
}
