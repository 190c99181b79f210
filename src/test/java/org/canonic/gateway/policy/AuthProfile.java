package org.canonic.gateway.policy;

import io.quarkus.test.junit.QuarkusTestProfile;

/** Client keys on: the {@code %auth.} settings of {@link org.canonic.gateway.testing.FakeBackends}. */
public class AuthProfile implements QuarkusTestProfile {

    @Override
    public String getConfigProfile() {
        return "auth";
    }
}
