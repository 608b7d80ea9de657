using Gateway.Core.Siem;

namespace Gateway.Web.Siem;

/// <summary>Delivers a batch to one receiver; returns only once the receiver has acknowledged all of it.</summary>
internal interface ISiemTransport : IDisposable
{
    /// <summary>The bytes <paramref name="e"/> adds to a batch in this transport's framing (an upper bound).</summary>
    int Size(OcsfEvent e);

    /// <summary>Sends <paramref name="batch"/>, in order.</summary>
    /// <exception cref="SiemDeliveryException">The receiver refused it, or did not acknowledge it in time.</exception>
    Task SendAsync(IReadOnlyList<OcsfEvent> batch, CancellationToken cancellationToken);
}

/// <summary>A batch was not delivered; it is sent again after a delay.</summary>
internal sealed class SiemDeliveryException(string message, Exception? inner = null) : Exception(message, inner);
