package config

import (
	"fmt"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// objectItem is one item of an object constructor whose key is static.
type objectItem struct {
	name     string
	keyRange hcl.Range
	expr     hcl.Expression
}

// staticObjectItems returns the items of an object constructor
// ({ a = x, "b" = y }) when every key is a bare name or a literal string, or
// nil otherwise. Evaluating the items one by one is cheaper than building the
// object for every message.
func staticObjectItems(expr hcl.Expression) []objectItem {
	oc, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok || len(oc.Items) == 0 {
		return nil
	}
	items := make([]objectItem, 0, len(oc.Items))
	seen := map[string]bool{}
	for _, item := range oc.Items {
		name := hcl.ExprAsKeyword(item.KeyExpr)
		if name == "" {
			if len(item.KeyExpr.Variables()) > 0 {
				return nil
			}
			kv, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || kv.IsNull() || kv.Type() != cty.String || kv.IsMarked() {
				return nil
			}
			name = kv.AsString()
		}
		if seen[name] {
			return nil // let evaluation report the duplicate
		}
		seen[name] = true
		items = append(items, objectItem{name: name, keyRange: item.KeyExpr.Range(), expr: item.ValueExpr})
	}
	return items
}

// primitiveString converts a primitive value to a string.
func primitiveString(v cty.Value) (string, bool) {
	if v.IsNull() || !v.Type().IsPrimitiveType() {
		return "", false
	}
	conv, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", false
	}
	return conv.AsString(), true
}

func (e *msgEval) metadata(expr hcl.Expression) map[string]string {
	if items := e.r.b.metadataItems; items != nil {
		// A static object constructor: evaluate the values one by one.
		md := make(map[string]string, len(items))
		for _, item := range items {
			v, ok := e.value("metadata", item.expr)
			if !ok {
				continue
			}
			s, ok := primitiveString(v)
			if !ok {
				e.fail("Invalid value for metadata", fmt.Sprintf("the metadata value for %q must be a string, number or bool.", item.name), item.expr)
				continue
			}
			md[item.name] = s
		}
		if n := len(e.m.Sensitive); n > 1 && e.m.Sensitive[n-1] == "metadata" && e.m.Sensitive[n-2] == "metadata" {
			e.m.Sensitive = e.m.Sensitive[:n-1]
		}
		return md
	}
	v, ok := e.value("metadata", expr)
	if !ok {
		return nil
	}
	if ty := v.Type(); !ty.IsObjectType() && !ty.IsMapType() {
		e.fail("Invalid value for metadata", fmt.Sprintf("metadata must be a map of strings, but this is %s.", ty.FriendlyName()), expr)
		return nil
	}
	md := make(map[string]string, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		k, val := it.Element()
		s, ok := primitiveString(val)
		if !ok {
			e.fail("Invalid value for metadata", fmt.Sprintf("the metadata value for %q must be a string, number or bool.", k.AsString()), expr)
			continue
		}
		md[k.AsString()] = s
	}
	return md
}

func (e *msgEval) headers(expr hcl.Expression) []Header {
	v, ok := e.value("headers", expr)
	if !ok {
		return nil
	}
	ty := v.Type()
	var hs []Header
	switch {
	case ty.IsObjectType() || ty.IsMapType():
		for it := v.ElementIterator(); it.Next(); {
			k, val := it.Element()
			s, ok := primitiveString(val)
			if !ok {
				e.fail("Invalid value for headers", fmt.Sprintf("the value of header %q must be a string.", k.AsString()), expr)
				continue
			}
			hs = append(hs, Header{Name: k.AsString(), Value: s})
		}
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		for it := v.ElementIterator(); it.Next(); {
			_, item := it.Element()
			name, nameOK := objectString(item, "name")
			value, valueOK := objectString(item, "value")
			if !nameOK || !valueOK {
				e.fail("Invalid value for headers", "each item of a headers list must be an object with string attributes name and value, such as { name = \"X-Campaign\", value = \"nov\" }.", expr)
				continue
			}
			hs = append(hs, Header{Name: name, Value: value})
		}
	default:
		e.fail("Invalid value for headers", "headers must be a map of header names to values, or a list of { name, value } objects.", expr)
	}
	return hs
}

// objectString returns the string attribute name of an object or map value.
func objectString(obj cty.Value, name string) (string, bool) {
	if obj.IsNull() {
		return "", false
	}
	ty := obj.Type()
	var v cty.Value
	switch {
	case ty.IsObjectType() && ty.HasAttribute(name):
		v = obj.GetAttr(name)
	case ty.IsMapType() && obj.HasIndex(cty.StringVal(name)).True():
		v = obj.Index(cty.StringVal(name))
	default:
		return "", false
	}
	return primitiveString(v)
}

// contentTypes gives the content type of common attachment extensions. A
// fixed table (rather than mime.TypeByExtension, which reads system files)
// keeps evaluation identical on every machine.
var contentTypes = map[string]string{
	".csv": "text/csv", ".gif": "image/gif", ".htm": "text/html", ".html": "text/html",
	".ics": "text/calendar", ".jpeg": "image/jpeg", ".jpg": "image/jpeg", ".json": "application/json",
	".pdf": "application/pdf", ".png": "image/png", ".svg": "image/svg+xml", ".txt": "text/plain",
	".webp": "image/webp", ".xml": "application/xml", ".zip": "application/zip",
}

func (e *msgEval) attachments(expr hcl.Expression) []Attachment {
	v, ok := e.value("attachments", expr)
	if !ok {
		return nil
	}
	ty := v.Type()
	if !ty.IsListType() && !ty.IsTupleType() {
		e.fail("Invalid value for attachments", "attachments must be a list of objects with name, content or path, and optional content_type and content_id.", expr)
		return nil
	}
	var as []Attachment
	for it := v.ElementIterator(); it.Next(); {
		_, item := it.Element()
		if item.IsNull() || !(item.Type().IsObjectType() || item.Type().IsMapType()) {
			e.fail("Invalid value for attachments", "each attachment must be an object with name, content or path, and optional content_type and content_id.", expr)
			continue
		}
		a := Attachment{}
		a.Name, _ = objectString(item, "name")
		contentText, hasContent := objectString(item, "content")
		filePath, hasPath := objectString(item, "path")
		a.ContentType, _ = objectString(item, "content_type")
		a.ContentID, _ = objectString(item, "content_id")
		switch {
		case hasContent && hasPath:
			e.fail("Invalid attachment", "an attachment has content or path, not both.", expr)
			continue
		case hasPath:
			data, err := e.r.b.s.rec.readFile(filePath)
			if err != nil {
				e.fail("Unreadable attachment", fmt.Sprintf("the attachment file %q could not be read: %s.", filePath, fsErrorText(err)), expr)
				continue
			}
			a.Content = data
			if a.Name == "" {
				a.Name = path.Base(filePath)
			}
		case hasContent:
			a.Content = []byte(contentText)
		default:
			e.fail("Invalid attachment", "an attachment needs content (a string) or path (a file in the configuration directory).", expr)
			continue
		}
		if a.Name == "" {
			e.fail("Invalid attachment", "an attachment with inline content needs a name, such as \"invoice.pdf\".", expr)
			continue
		}
		if a.ContentType == "" {
			a.ContentType = contentTypes[strings.ToLower(path.Ext(a.Name))]
			if a.ContentType == "" {
				a.ContentType = "application/octet-stream"
			}
		}
		as = append(as, a)
	}
	return as
}

func (e *msgEval) serverTemplate(st *serverTemplateBlock) {
	m := e.m
	if st.Alias != nil {
		m.TemplateAlias = e.str("template_alias", st.Alias)
		if m.TemplateAlias == "" && !e.failed["template_alias"] {
			e.fail("Invalid template alias", "the postmark_template alias must not be empty.", st.Alias)
		}
	}
	if st.ID != nil {
		if v, ok := e.value("template_id", st.ID); ok {
			conv, err := convert.Convert(v, cty.Number)
			var id int64
			if err == nil {
				bf := conv.AsBigFloat()
				if bf.IsInt() {
					id, _ = bf.Int64()
				}
			}
			if id <= 0 {
				e.fail("Invalid template id", "the postmark_template id must be a positive whole number.", st.ID)
			}
			m.TemplateID = id
		}
	}
	m.TemplateModel = []byte("{}")
	if st.Model != nil {
		v, ok := e.value("template_model", st.Model)
		if !ok {
			return
		}
		if ty := v.Type(); !ty.IsObjectType() && !ty.IsMapType() {
			e.fail("Invalid template model", fmt.Sprintf("the postmark_template model must be an object, but this is %s.", ty.FriendlyName()), st.Model)
			return
		}
		js, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			e.fail("Invalid template model", "the model cannot be encoded as JSON: "+err.Error()+".", st.Model)
			return
		}
		m.TemplateModel = js
	}
}
