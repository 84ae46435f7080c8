using System.Text;
using Failmail.Maildir;
using MimeKit;

namespace Failmail.Rewriting;

// Every address rewrite of the system-mail hub, built once at start-up from the options and
// applied to each accepted message (SMTP or spool), always in this order:
//   1. qualify     a bare name gets @--qualify-domain (envelope and headers)
//   2. aliases     --aliases expands local envelope recipients (never headers)
//   3. canonical   --sender-canonical(-static) / --recipient-canonical(-static), on the
//                  envelope, the headers or both (--canonical-scope)
//   4. masquerade  --masquerade-domains strips subdomains (envelope and headers)
//   5. force-from  --force-from replaces the envelope sender and the From header;
//                  --reply-to adds a Reply-To header when there is none
// After these the receiver applies failmail's --rewrite-src/--rewrite-dest to recipients.
// A "local" address is a bare name or one in --local-domains (which always holds
// --qualify-domain). The null sender stays null.
internal sealed class AddressRewriter
{
    private static readonly string[] SenderHeaders = ["From", "Sender", "Reply-To"];
    private static readonly string[] RecipientHeaders = ["To", "Cc", "Bcc"];

    private readonly string _domain;
    private readonly IReadOnlySet<string> _localDomains;
    private readonly AliasTable _aliases;
    private readonly CanonicalMap _senderCanonical;
    private readonly CanonicalMap _recipientCanonical;
    private readonly CanonicalScope _scope;
    private readonly Masquerade _masquerade;
    private readonly MailboxAddress? _forceFrom;
    private readonly MailboxAddress? _replyTo;
    // IsLocal as one delegate: a method group passed per address would allocate each time.
    private readonly Func<string, bool> _isLocal;

    public AddressRewriter(string qualifyDomain, AliasTable aliases, CanonicalMap senderCanonical, CanonicalMap recipientCanonical,
        CanonicalScope scope, Masquerade masquerade, string forceFrom, string replyTo, IReadOnlySet<string>? localDomains = null)
    {
        ArgumentNullException.ThrowIfNull(qualifyDomain);
        _domain = qualifyDomain;
        // Without a list (tests), only the qualify domain is local, as before --local-domains.
        _localDomains = localDomains ?? new HashSet<string>(StringComparer.OrdinalIgnoreCase) { LocalDomains.Normalize(qualifyDomain) };
        _aliases = aliases;
        _senderCanonical = senderCanonical;
        _recipientCanonical = recipientCanonical;
        _scope = scope;
        _masquerade = masquerade;
        _forceFrom = ParseMailbox("--force-from", forceFrom);
        _replyTo = ParseMailbox("--reply-to", replyTo);
        _isLocal = IsLocal;
    }

    public string QualifyDomain => _domain;

    // Reads the files and checks the values; throws FormatException / ArgumentException /
    // IOException naming the file and line or the flag (start-up errors, exit 2).
    public static AddressRewriter Create(FailmailOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var scope = options.CanonicalScope switch
        {
            "envelope" => CanonicalScope.Envelope,
            "headers" => CanonicalScope.Headers,
            "both" or "" => CanonicalScope.Both,
            _ => throw new ArgumentException($"--canonical-scope: must be envelope, headers or both (got \"{options.CanonicalScope}\")"),
        };
        var domain = HostDomain.Resolve(options.QualifyDomain);
        return new AddressRewriter(
            domain,
            options.Aliases.Length > 0 ? AliasTable.Load(options.Aliases) : AliasTable.Empty,
            CanonicalMap.Load(options.SenderCanonical, options.SenderCanonicalStatic),
            CanonicalMap.Load(options.RecipientCanonical, options.RecipientCanonicalStatic),
            scope,
            new Masquerade(options.MasqueradeDomains),
            options.ForceFrom,
            options.ReplyTo,
            LocalDomains.Resolve(options.LocalDomains, domain));
    }

    public bool IsLocal(string address) =>
        !MailAddress.IsQualified(address) || _localDomains.Contains(LocalDomains.Normalize(MailAddress.Domain(address)));

    public string Qualify(string address) =>
        address.Length == 0 || MailAddress.IsQualified(address) ? address : address + "@" + _domain;

    public string RewriteSender(string from)
    {
        ArgumentNullException.ThrowIfNull(from);
        if (from.Length == 0)
        {
            return from;
        }
        var address = Qualify(from);
        if (_scope.HasFlag(CanonicalScope.Envelope))
        {
            address = _senderCanonical.Map(address, _isLocal);
        }
        address = _masquerade.Apply(address);
        return _forceFrom is null ? address : _forceFrom.Address;
    }

    // failmail's own sender (--from) on each digest: canonical maps and masquerading, as for
    // any sender passing this host (Postfix rewrites locally generated mail too), but no
    // qualification and no --force-from, which are about received mail. envelope: the MAIL
    // FROM (canonical when --canonical-scope has envelope), else the From header (headers).
    // A display-name form keeps its name.
    public string RewriteDigestSender(string from, bool envelope)
    {
        ArgumentNullException.ThrowIfNull(from);
        var named = MailboxAddress.TryParse(ParserOptions.Default, from, out var parsed) && !string.IsNullOrEmpty(parsed.Name) ? parsed : null;
        var address = named?.Address ?? from;
        if (address.Length == 0)
        {
            return from;
        }
        if (_scope.HasFlag(envelope ? CanonicalScope.Envelope : CanonicalScope.Headers))
        {
            address = _senderCanonical.Map(address, _isLocal);
        }
        address = _masquerade.Apply(address);
        if (named is null)
        {
            return address;
        }
        return string.Equals(address, named.Address, StringComparison.Ordinal) ? from : new MailboxAddress(named.Name, address).ToString();
    }

    public IReadOnlyList<string> RewriteRecipients(IEnumerable<string> recipients)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var recipient in recipients)
        {
            var qualified = Qualify(recipient);
            var expanded = IsLocal(qualified) ? _aliases.Expand(MailAddress.LocalPart(qualified), _isLocal) : [qualified];
            foreach (var target in expanded)
            {
                var address = Qualify(target);
                if (_scope.HasFlag(CanonicalScope.Envelope))
                {
                    address = _recipientCanonical.Map(address, _isLocal);
                }
                address = _masquerade.Apply(address);
                if (seen.Add(address))
                {
                    result.Add(address);
                }
            }
        }
        return result;
    }

    // Wraps a store draft so that the header section is rewritten on its way to disk.
    public IMessageDraft Wrap(IMessageDraft draft) => new HeaderRewritingDraft(draft, this);

    // The rewritten header section (fields with CRLF, no blank line after), or null when no
    // field changes: then the stored bytes stay exactly as received.
    public byte[]? RewriteHeaders(ReadOnlySpan<byte> section)
    {
        var ranges = HeaderFields.Ranges(section);
        var changed = false;
        var hasFrom = false;
        var hasReplyTo = false;
        // Only the address fields are decoded; the others are copied as they are, if at all.
        var replaced = new byte[]?[ranges.Count];
        for (var i = 0; i < ranges.Count; i++)
        {
            var raw = section[ranges[i]];
            var colon = raw.IndexOf((byte)':');
            var rawName = colon > 0 ? raw[..colon] : [];
            var isSender = IsOneOf(rawName, SenderHeaders);
            var isRecipient = IsOneOf(rawName, RecipientHeaders);
            if (!isSender && !isRecipient)
            {
                continue;
            }
            var field = HeaderField.Create(raw.ToArray());
            var name = field.Name;
            hasFrom |= name.Equals("From", StringComparison.OrdinalIgnoreCase);
            hasReplyTo |= name.Equals("Reply-To", StringComparison.OrdinalIgnoreCase);
            if (AddressListParser.TryParse(field.Value, out var list))
            {
                var fieldChanged = false;
                foreach (var mailbox in list.Mailboxes)
                {
                    var rewritten = isSender ? RewriteHeaderSender(mailbox.Address) : RewriteHeaderRecipient(mailbox.Address);
                    if (name.Equals("From", StringComparison.OrdinalIgnoreCase) && _forceFrom is not null)
                    {
                        rewritten = _forceFrom.Address;
                        if (!string.IsNullOrEmpty(_forceFrom.Name))
                        {
                            fieldChanged |= mailbox.Name != _forceFrom.Name;
                            mailbox.Name = _forceFrom.Name;
                        }
                    }
                    if (!string.Equals(rewritten, mailbox.Address, StringComparison.Ordinal))
                    {
                        mailbox.Address = rewritten;
                        fieldChanged = true;
                    }
                }
                if (fieldChanged)
                {
                    replaced[i] = Format(field.RawName, list);
                    changed = true;
                }
            }
        }
        var addFrom = !hasFrom && _forceFrom is not null ? Format("From", [_forceFrom]) : null;
        var addReplyTo = !hasReplyTo && _replyTo is not null ? Format("Reply-To", [_replyTo]) : null;
        if (!changed && addFrom is null && addReplyTo is null)
        {
            return null;
        }
        var output = new List<byte>(section.Length + 256);
        for (var i = 0; i < ranges.Count; i++)
        {
            output.AddRange(replaced[i] is { } field ? field : section[ranges[i]]);
        }
        output.AddRange(addFrom ?? []);
        output.AddRange(addReplyTo ?? []);
        return [.. output];
    }

    // Whether a field name (the bytes before its colon) is one of names, ignoring case. A
    // match is printable ASCII without spaces, as HeaderField.Create requires of a name.
    private static bool IsOneOf(ReadOnlySpan<byte> rawName, string[] names)
    {
        foreach (var name in names)
        {
            if (Ascii.EqualsIgnoreCase(rawName, name))
            {
                return true;
            }
        }
        return false;
    }

    private string RewriteHeaderSender(string address)
    {
        address = Qualify(address);
        if (_scope.HasFlag(CanonicalScope.Headers))
        {
            address = _senderCanonical.Map(address, _isLocal);
        }
        return _masquerade.Apply(address);
    }

    private string RewriteHeaderRecipient(string address)
    {
        address = Qualify(address);
        if (_scope.HasFlag(CanonicalScope.Headers))
        {
            address = _recipientCanonical.Map(address, _isLocal);
        }
        return _masquerade.Apply(address);
    }

    private static byte[] Format(string name, IEnumerable<InternetAddress> addresses)
    {
        var list = new InternetAddressList(addresses.Select(a => (InternetAddress)a.Clone()));
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        // encode: true gives RFC 2047 display names and folds long lists at 78 columns.
        var value = list.ToString(options, encode: true).TrimStart();
        return Encoding.UTF8.GetBytes(name + ": " + value + "\r\n");
    }

    private static MailboxAddress? ParseMailbox(string flag, string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (!MailboxAddress.TryParse(ParserOptions.Default, value, out var mailbox) || !MailAddress.IsQualified(mailbox.Address))
        {
            throw new ArgumentException($"{flag}: not an address with a domain: \"{value}\"");
        }
        return mailbox;
    }
}
