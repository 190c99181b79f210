package org.canonic.gateway.state;

import io.smallrye.config.ConfigSourceInterceptor;
import io.smallrye.config.ConfigSourceInterceptorContext;
import io.smallrye.config.ConfigValue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Keeps {@code quarkus.redis.*} out of the property names Quarkus checks against its extensions. The gateway reads
 * {@code quarkus.redis.hosts} itself ({@link RedisHostsConfig}) because the Redis extension is not in this build;
 * without this, Quarkus would warn at every start that the key is unrecognized and "will be ignored", which would be
 * false. Values are untouched (a lookup by name still finds them); only the listing of names is filtered. Registered
 * through {@code META-INF/services}, as SmallRye Config and Quarkus (native included) load interceptors.
 */
public final class RedisHostsInterceptor implements ConfigSourceInterceptor {

    private static final String PREFIX = "quarkus.redis.";

    @Override
    public ConfigValue getValue(ConfigSourceInterceptorContext context, String name) {
        return context.proceed(name);
    }

    @Override
    public Iterator<String> iterateNames(ConfigSourceInterceptorContext context) {
        List<String> names = new ArrayList<>();
        context.iterateNames().forEachRemaining(name -> {
            if (!name.startsWith(PREFIX)) {
                names.add(name);
            }
        });
        return names.iterator();
    }
}
