package org.canonic.gateway.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.canonic.gateway.policy.ClientKeys;
import org.canonic.gateway.policy.PolicyChain;
import org.canonic.gateway.policy.Refusal;
import org.canonic.gateway.relay.OpenAiError;
import org.canonic.gateway.usage.GroupBy;
import org.canonic.gateway.usage.UsageRendering;
import org.canonic.gateway.usage.UsageReport;
import org.canonic.gateway.usage.UsageService;

import java.util.EnumSet;
import java.util.Optional;

/**
 * {@code GET /v1/usage?from=&to=&group_by=day|model|route} (the gateway's extension of the OpenAI API): what the
 * calling key used and cost, with its own client key and no admin token. Only that key's requests are counted; its
 * cost is its share of the rented instances it used, shared with every key that used them, but no other key, backend
 * or instance is ever named. Without client keys ({@code gateway.auth.mode=none}) every caller is the same anonymous
 * key.
 */
@Path("/v1/usage")
public class UsageClientResource {

    private static final EnumSet<GroupBy> CLIENT_GROUPS = EnumSet.of(GroupBy.DAY, GroupBy.MODEL, GroupBy.ROUTE);
    /** The key id of requests without client keys, as the ledger records them. */
    private static final String ANONYMOUS = "anonymous";

    @Inject
    PolicyChain policy;

    @Inject
    UsageService usage;

    @Inject
    ObjectMapper mapper;

    @GET
    public Response usage(@Context HttpHeaders headers, @QueryParam("from") String from, @QueryParam("to") String to,
                          @QueryParam("group_by") String groupBy) {
        Optional<ClientKeys.Entry> key;
        try {
            key = policy.authenticate(headers.getHeaderString(HttpHeaders.AUTHORIZATION));
        } catch (Refusal refusal) {
            return error(refusal.error());
        }
        String keyId = key.map(ClientKeys.Entry::id).orElse(ANONYMOUS);
        UsageReport report;
        try {
            report = usage.report(from, to, groupBy, GroupBy.DAY, CLIENT_GROUPS, keyId);
        } catch (UsageService.BadQuery bad) {
            return error(bad.error());
        }
        var answer = UsageRendering.json(report, mapper, false);
        answer.put("key_id", keyId);
        return Response.ok(answer, MediaType.APPLICATION_JSON).build();
    }

    private static Response error(OpenAiError error) {
        return Response.status(error.status()).type(MediaType.APPLICATION_JSON).entity(error.toJson()).build();
    }
}
