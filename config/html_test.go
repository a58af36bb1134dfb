package config

import (
	"strings"
	"testing"
)

// TestHTMLEscaping renders hostile data into every kind of HTML template
// position and checks that interpolated values are escaped, literal template
// text is not, raw() opts out (also through string functions), and subjects
// and text bodies are never escaped.
func TestHTMLEscaping(t *testing.T) {
	const hostile = `<script>alert(1)</script> & "quotes" 'single'`
	const escaped = `&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34; &#39;single&#39;`
	fsys := files(map[string]string{
		"main.pf.hcl": `
template "t" {
  subject   = "Hi ${name}"
  html_file = "body.html"
  text      = "Text ${name}"
}

batch "file" {
  for_each = { a = "` + strings.ReplaceAll(hostile, `"`, `\"`) + `" }
  from     = "news@acme.example"
  to       = "ann@example.com"
  template = template.t
  data     = { name = each.value, items = [each.value, "ok"], trusted = "<b>bold</b>" }
}

batch "inline" {
  for_each = { a = "` + strings.ReplaceAll(hostile, `"`, `\"`) + `" }
  from     = "news@acme.example"
  to       = "ann@example.com"
  subject  = "S ${each.value}"
  html     = "<p class=\"x\">${each.value}</p>${raw("<hr>")}"
}

batch "bare" {
  for_each = { a = "<i>x</i>" }
  from     = "news@acme.example"
  to       = "ann@example.com"
  html     = each.value
}
`,
		"body.html": `<h1>Hello ${name}</h1>
%{ for item in items ~}
<li>${item}</li>
%{ endfor ~}
%{ if name != "" ~}
<p>${name}</p>
%{ else ~}
<p>none</p>
%{ endif ~}
${trusted} ${raw(trusted)} ${upper(raw(trusted))} ${length(name) > 0 ? name : "-"}
`,
	})
	_, msgs := mustMessages(t, fsys, Inputs{})
	if len(msgs) != 3 {
		t.Fatalf("got %d messages, want 3", len(msgs))
	}
	file, inline, bare := msgs[0], msgs[1], msgs[2]

	wantHTML := "<h1>Hello " + escaped + "</h1>\n" +
		"<li>" + escaped + "</li>\n<li>ok</li>\n" +
		"<p>" + escaped + "</p>\n" +
		"&lt;b&gt;bold&lt;/b&gt; <b>bold</b> <B>BOLD</B> " + escaped + "\n"
	if file.HTMLBody != wantHTML {
		t.Errorf("html_file body:\n got %q\nwant %q", file.HTMLBody, wantHTML)
	}
	if file.Subject != "Hi "+hostile {
		t.Errorf("subject = %q, want it unescaped", file.Subject)
	}
	if file.TextBody != "Text "+hostile {
		t.Errorf("text = %q, want it unescaped", file.TextBody)
	}
	if want := `<p class="x">` + escaped + `</p><hr>`; inline.HTMLBody != want {
		t.Errorf("inline html:\n got %q\nwant %q", inline.HTMLBody, want)
	}
	if inline.Subject != "S "+hostile {
		t.Errorf("inline subject = %q", inline.Subject)
	}
	if want := "&lt;i&gt;x&lt;/i&gt;"; bare.HTMLBody != want {
		t.Errorf("bare html expression = %q, want %q (a value is escaped unless raw)", bare.HTMLBody, want)
	}
}
