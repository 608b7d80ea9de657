using System.Security.Cryptography;
using System.Threading.Channels;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace Gateway.Web.Mcp.RoundTrips;

/// <summary>
/// A call of a 2026-07-28 agent to a 2025-11-25 upstream that asks for input mid-call (elicitation, sampling, roots as
/// requests on its session). The agent has no session to receive requests on, so the gateway keeps the upstream call
/// running here, relays each question as an <c>input_required</c> result, and hands the agent's answers (its retry) to
/// the waiting upstream request. The call is decided, audited and forwarded once; only the questions travel in rounds.
/// </summary>
internal sealed class ParkedCall
{
    // An upstream asking more than this many questions at once gets an error for the rest (bounded memory).
    private const int MaxOpenQuestions = 16;

    private readonly Channel<Question> _questions = Channel.CreateBounded<Question>(new BoundedChannelOptions(MaxOpenQuestions) { FullMode = BoundedChannelFullMode.Wait });
    private readonly Dictionary<string, TaskCompletionSource<InputResponse>> _open = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly TimeSpan _lifetime;
    private int _next;

    public ParkedCall(TimeSpan lifetime)
    {
        _lifetime = lifetime;
    }

    /// <summary>Gets the id the sealed state carries.</summary>
    public string Id { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Gets the server the call went to (the sealed state is bound to it).</summary>
    public string Server { get; set; } = string.Empty;

    /// <summary>Gets the call's own lifetime: cancelled when the agent does not answer in time (the upstream call then ends).</summary>
    public CancellationTokenSource Lifetime { get; } = new();

    /// <summary>Gets the call's result, when it is done.</summary>
    public Task<CallToolResult> Result { get; private set; } = Task.FromResult(new CallToolResult());

    /// <summary>Starts the call; it runs beyond the agent's first request.</summary>
    public void Start(Func<CancellationToken, Task<CallToolResult>> call) => Result = Task.Run(() => call(Lifetime.Token));

    /// <summary>Asks the agent (from the upstream's request handler) and waits for its answer.</summary>
    public async ValueTask<InputResponse> AskAsync(InputRequest request, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<InputResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        var key = "q" + Interlocked.Increment(ref _next);
        if (!_questions.Writer.TryWrite(new Question(key, request, answer)))
        {
            throw new McpProtocolException("Too many questions at once for the agent.", McpErrorCode.InternalError);
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Lifetime.Token);
        return await answer.Task.WaitAsync(linked.Token);
    }

    /// <summary>Hands the agent's answers to the questions it was asked; a question it did not answer fails upstream.</summary>
    public void Answer(IDictionary<string, InputResponse>? responses)
    {
        lock (_gate)
        {
            foreach (var (key, waiting) in _open)
            {
                if (responses is not null && responses.TryGetValue(key, out var response))
                {
                    waiting.TrySetResult(response);
                }
                else
                {
                    waiting.TrySetException(new McpProtocolException($"The agent did not answer '{key}'.", McpErrorCode.InvalidParams));
                }
            }

            _open.Clear();
        }

        // Answered: the call runs on for as long as it needs (its own call timeout bounds it).
        Lifetime.CancelAfter(Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Waits for what comes next: the result (returned), or the upstream's questions (thrown as the agent's
    /// <c>input_required</c>, built by <paramref name="relay"/>; the agent then has the lifetime to answer).
    /// </summary>
    public async Task<CallToolResult> NextAsync(Func<IDictionary<string, InputRequest>, Exception> relay, CancellationToken cancellationToken)
    {
        while (true)
        {
            var asked = _questions.Reader.WaitToReadAsync(cancellationToken).AsTask();
            if (await Task.WhenAny(Result, asked) == Result)
            {
                return await Result;
            }

            // The agent's request went away while the call ran on: the call goes on (bounded by its call timeout), and
            // its questions wait for a retry that may never come (then the answer lifetime ends it).
            cancellationToken.ThrowIfCancellationRequested();

            var questions = new Dictionary<string, InputRequest>(StringComparer.Ordinal);
            lock (_gate)
            {
                while (_questions.Reader.TryRead(out var question))
                {
                    questions[question.Key] = question.Request;
                    _open[question.Key] = question.Answer;
                }
            }

            if (questions.Count > 0)
            {
                Lifetime.CancelAfter(_lifetime);
                throw relay(questions);
            }
        }
    }

    /// <summary>Stops the answer timer of a call that is done.</summary>
    public void Disarm() => Lifetime.CancelAfter(Timeout.InfiniteTimeSpan);

    private sealed record Question(string Key, InputRequest Request, TaskCompletionSource<InputResponse> Answer);
}
