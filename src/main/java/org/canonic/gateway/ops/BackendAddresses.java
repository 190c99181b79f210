package org.canonic.gateway.ops;

import io.quarkus.runtime.Startup;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.canonic.gateway.backend.UpstreamEndpoint;
import org.canonic.gateway.config.GatewayConfig;
import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.fleet.BackendResolver;
import org.canonic.gateway.fleet.FleetException;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The addresses a backend registered through the admin API may have. The gateway sends a backend its key and its
 * clients' prompts, and probes it at once, so a registration is a way to make the gateway talk to any address its
 * network reaches: the cloud's metadata service (link-local), its own management port or a sidecar (loopback), the
 * rest of a private network. Only public addresses are accepted, unless the operator lists the networks their
 * backends live in ({@code gateway.admin.allowed-networks}): vLLM machines on a private network or a VPN are common,
 * and then exactly those networks open.
 *
 * <p>A host name is resolved when the backend is registered and every address it has must pass. Not covered: a name
 * whose DNS answer changes later (rebinding); list only networks you trust, and prefer addresses to names.
 * Backends from configuration, rented machines (compute) and webhook receivers are the operator's own settings and
 * are not checked.
 */
@Startup
@Singleton
public class BackendAddresses {

    static final String SETTING = "gateway.admin.allowed-networks (GATEWAY_ADMIN_ALLOWED_NETWORKS)";

    /** Not public though not flagged by {@link InetAddress}: shared (CGNAT), benchmark, reserved, unique local. */
    private static final List<Network> NOT_PUBLIC = List.of(Network.parse("0.0.0.0/8"), Network.parse("100.64.0.0/10"),
            Network.parse("192.0.0.0/24"), Network.parse("198.18.0.0/15"), Network.parse("240.0.0.0/4"),
            Network.parse("fc00::/7"), Network.parse("64:ff9b:1::/48"));

    private final List<Network> allowed;

    @Inject
    BackendAddresses(GatewayConfig config) {
        this(config.admin().allowedNetworks().orElse(List.of()));
    }

    BackendAddresses(List<String> networks) {
        List<Network> parsed = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (String network : networks) {
            if (network.isBlank()) {
                continue;
            }
            try {
                parsed.add(Network.parse(network.strip()));
            } catch (IllegalArgumentException e) {
                problems.add("gateway.admin.allowed-networks: '" + network.strip() + "' is not a network (CIDR, e.g. "
                        + "10.0.5.0/24 or fd00::/8)");
            }
        }
        if (!problems.isEmpty()) {
            throw new InvalidConfigurationException(problems);
        }
        this.allowed = List.copyOf(parsed);
    }

    /**
     * Refuses (400 {@code address_not_allowed}) a {@code base_url} whose host is or resolves to an address that is
     * not public and not in an allowed network. A URL that is not one (the registry says why) or a name that does
     * not resolve passes here.
     */
    void check(String baseUrl) {
        if (baseUrl == null || baseUrl.strip().equals(BackendResolver.SIMULATOR_URL)) {
            return;
        }
        String host;
        try {
            host = UpstreamEndpoint.parse(baseUrl).host();
        } catch (IllegalArgumentException e) {
            return;
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException | SecurityException e) {
            return;
        }
        for (InetAddress address : addresses) {
            Optional<String> kind = notPublic(address);
            if (kind.isPresent() && allowed.stream().noneMatch(network -> network.contains(address))) {
                throw new FleetException(400, "address_not_allowed", "base_url points at " + address.getHostAddress()
                        + ", a " + kind.get() + " address; the admin API registers backends at such addresses only "
                        + "in the networks listed in " + SETTING + ".");
            }
        }
    }

    /** What kind of non-public address this is, or empty for a public one. */
    static Optional<String> notPublic(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return Optional.of("loopback");
        }
        if (address.isLinkLocalAddress()) {
            return Optional.of("link-local");
        }
        if (address.isSiteLocalAddress()) {
            return Optional.of("private");
        }
        if (address.isAnyLocalAddress() || address.isMulticastAddress()
                || NOT_PUBLIC.stream().anyMatch(network -> network.contains(address))) {
            return Optional.of("non-public");
        }
        return Optional.empty();
    }

    /** An address block in CIDR notation. */
    record Network(byte[] prefix, int bits) {

        static Network parse(String cidr) {
            int slash = cidr.indexOf('/');
            String literal = slash < 0 ? cidr : cidr.substring(0, slash);
            // Literals only: a name here would be resolved at start-up and mean something else later.
            if (!literal.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
                throw new IllegalArgumentException("not an address literal");
            }
            byte[] bytes;
            try {
                bytes = InetAddress.getByName(literal).getAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("not an address literal", e);
            }
            int bits;
            try {
                bits = slash < 0 ? bytes.length * 8 : Integer.parseInt(cidr.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a prefix length", e);
            }
            if (bits < 0 || bits > bytes.length * 8) {
                throw new IllegalArgumentException("prefix length out of range");
            }
            return new Network(bytes, bits);
        }

        boolean contains(InetAddress address) {
            byte[] candidate = address.getAddress();
            if (candidate.length != prefix.length) {
                return false;
            }
            for (int bit = 0; bit < bits; bit++) {
                int mask = 0x80 >>> (bit % 8);
                if ((candidate[bit / 8] & mask) != (prefix[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }
}
