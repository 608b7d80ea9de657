namespace Gateway.TestUpstream.Conformance;

/// <summary>Tiny but valid binary payloads for the image, audio and blob scenarios.</summary>
internal static class TestMedia
{
    /// <summary>A 1x1 red pixel PNG.</summary>
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==");

    /// <summary>A WAV file with eight samples of 8 kHz, 8-bit mono silence.</summary>
    public static readonly byte[] Wav = Convert.FromBase64String(
        "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==");
}
