namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Wraps a registered service in a decorator (the audit of admin changes, the metrics of tool calls).</summary>
internal static class ServiceDecoration
{
    /// <summary>Replaces the last registration of <typeparamref name="T"/> with <paramref name="wrap"/> around it, same lifetime.</summary>
    public static IServiceCollection Decorate<T>(this IServiceCollection services, Func<T, IServiceProvider, T> wrap)
        where T : class
    {
        var inner = services.Last(d => d.ServiceType == typeof(T));
        services.Remove(inner);
        services.Add(ServiceDescriptor.Describe(
            typeof(T),
            sp => wrap((T)(inner.ImplementationInstance ?? inner.ImplementationFactory?.Invoke(sp) ?? ActivatorUtilities.CreateInstance(sp, inner.ImplementationType!)), sp),
            inner.Lifetime));
        return services;
    }
}
