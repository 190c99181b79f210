package org.canonic.gateway.ops;

import io.quarkus.test.junit.QuarkusTestProfile;

/** No admin token configured: the {@code %noadmin.} settings of {@link org.canonic.gateway.testing.FakeBackends}. */
public class NoAdminTokenProfile implements QuarkusTestProfile {

    @Override
    public String getConfigProfile() {
        return "noadmin";
    }
}
