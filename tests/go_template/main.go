// Renders an Ollama TEMPLATE with Go's own text/template, the engine Ollama runs templates with, for the tests.
// Reads {"template", "system", "messages"} on standard input and writes the rendered text. The values are those
// template.Execute gives a template over .Messages (template/template.go of github.com/ollama/ollama): System (the
// system messages' text) and Messages (the messages, each with Role and Content).
package main

import (
	"encoding/json"
	"os"
	"text/template"
)

// message has the fields of Ollama's api.Message that a template over .Messages reads here.
type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func main() {
	var in struct {
		Template string    `json:"template"`
		System   string    `json:"system"`
		Messages []message `json:"messages"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	tmpl := template.Must(template.New("").Option("missingkey=zero").Parse(in.Template))
	values := map[string]interface{}{"System": in.System, "Messages": in.Messages, "Tools": nil, "Response": ""}
	if err := tmpl.Execute(os.Stdout, values); err != nil {
		panic(err)
	}
}
