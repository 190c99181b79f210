package org.canonic.gateway.ops;

import org.canonic.gateway.config.InvalidConfigurationException;
import org.canonic.gateway.fleet.FleetException;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The address rule for admin-registered backends, and its setting's own checks. */
class BackendAddressesTest {

    @Test
    void addressesAreClassifiedAsTheyAre() throws Exception {
        assertEquals(Optional.empty(), BackendAddresses.notPublic(InetAddress.getByName("203.0.113.9")));
        assertEquals(Optional.of("loopback"), BackendAddresses.notPublic(InetAddress.getByName("127.0.0.2")));
        assertEquals(Optional.of("link-local"), BackendAddresses.notPublic(InetAddress.getByName("169.254.169.254")));
        assertEquals(Optional.of("private"), BackendAddresses.notPublic(InetAddress.getByName("172.20.0.1")));
        assertEquals(Optional.of("private"), BackendAddresses.notPublic(InetAddress.getByName("::ffff:10.0.0.1")));
        assertEquals(Optional.of("non-public"), BackendAddresses.notPublic(InetAddress.getByName("100.64.0.1")));
        assertEquals(Optional.of("non-public"), BackendAddresses.notPublic(InetAddress.getByName("fd00::1")));
        assertEquals(Optional.of("non-public"), BackendAddresses.notPublic(InetAddress.getByName("0.0.0.0")));
    }

    @Test
    void onlyTheListedNetworksOpen() {
        BackendAddresses addresses = new BackendAddresses(List.of("10.0.5.0/24", "fd00::/8"));
        assertDoesNotThrow(() -> addresses.check("http://10.0.5.7:8000/v1"));
        assertDoesNotThrow(() -> addresses.check("http://[fd12::3]:8000/v1"));
        assertDoesNotThrow(() -> addresses.check("https://203.0.113.9/v1"));
        assertDoesNotThrow(() -> addresses.check("simulator:"));
        FleetException refused = assertThrows(FleetException.class, () -> addresses.check("http://10.0.6.7:8000/v1"));
        assertEquals("address_not_allowed", refused.code());
        assertThrows(FleetException.class, () -> addresses.check("http://localhost:8000/v1"));
    }

    @Test
    void aSettingThatIsNotANetworkStopsTheStart() {
        InvalidConfigurationException error = assertThrows(InvalidConfigurationException.class,
                () -> new BackendAddresses(List.of("10.0.0.0/33", "vllm.internal", "10.0.0.0/8")));
        assertEquals(2, error.problems().size(), error.problems().toString());
        assertTrue(error.problems().get(0).contains("gateway.admin.allowed-networks"), error.problems().toString());
    }
}
