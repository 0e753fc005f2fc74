package server

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/zhengxin/zhengxin/verify/report"
)

// Problem is an RFC 9457 problem details object (application/problem+json).
// Type and Code are stable and documented in docs/api.md; Title and Detail
// are "中文 / English"; Message carries the same detail split by language
// for pages, in the shape of the verification report's message.
type Problem struct {
	Type       string       `json:"type"`
	Title      string       `json:"title"`
	Status     int          `json:"status"`
	Detail     string       `json:"detail,omitempty"`
	Instance   string       `json:"instance,omitempty"`
	Code       string       `json:"code"`
	Message    report.Text  `json:"message"`
	Errors     []FieldError `json:"errors,omitempty"`
	RetryAfter int          `json:"retry_after,omitempty"`
}

// problemKind is one stable error code with its status and title.
type problemKind struct {
	code   string
	status int
	title  report.Text
}

// The error codes of the API. Extend, never rename: clients switch on them.
var (
	probBadRequest     = problemKind{"bad_request", 400, report.Text{ZH: "请求有误", EN: "Bad request"}}
	probInvalidJSON    = problemKind{"invalid_json", 400, report.Text{ZH: "JSON 格式错误", EN: "Malformed JSON"}}
	probValidation     = problemKind{"validation_failed", 422, report.Text{ZH: "字段校验未通过", EN: "Validation failed"}}
	probUnauthorized   = problemKind{"unauthorized", 401, report.Text{ZH: "需要登录或 API 令牌", EN: "Authentication required"}}
	probForbidden      = problemKind{"forbidden", 403, report.Text{ZH: "无权执行此操作", EN: "Not allowed for this role"}}
	probCSRF           = problemKind{"csrf_failed", 403, report.Text{ZH: "跨站请求校验失败", EN: "CSRF check failed"}}
	probNotFound       = problemKind{"not_found", 404, report.Text{ZH: "资源不存在", EN: "Not found"}}
	probMethod         = problemKind{"method_not_allowed", 405, report.Text{ZH: "不支持此请求方法", EN: "Method not allowed"}}
	probConflict       = problemKind{"conflict", 409, report.Text{ZH: "资源已存在或状态冲突", EN: "Conflict"}}
	probTooLarge       = problemKind{"payload_too_large", 413, report.Text{ZH: "上传内容过大", EN: "Payload too large"}}
	probMediaType      = problemKind{"unsupported_media_type", 415, report.Text{ZH: "不支持的内容类型", EN: "Unsupported media type"}}
	probRateLimited    = problemKind{"rate_limited", 429, report.Text{ZH: "请求过于频繁", EN: "Too many requests"}}
	probInternal       = problemKind{"internal", 500, report.Text{ZH: "服务器内部错误", EN: "Internal server error"}}
	probNotConfigured  = problemKind{"not_configured", 503, report.Text{ZH: "此功能未配置", EN: "Not configured on this server"}}
	probUnavailable    = problemKind{"unavailable", 503, report.Text{ZH: "服务暂时不可用", EN: "Service unavailable"}}
	probNoQR           = problemKind{"qr_not_found", 422, report.Text{ZH: "图片中未找到二维码", EN: "No QR code found in the picture"}}
	probInvalidCredent = problemKind{"invalid_credentials", 401, report.Text{ZH: "用户名或密码错误", EN: "Wrong user name or password"}}
)

// allProblemKinds lists every code, for the documentation test.
var allProblemKinds = []problemKind{
	probBadRequest, probInvalidJSON, probValidation, probUnauthorized, probForbidden, probCSRF,
	probNotFound, probMethod, probConflict, probTooLarge, probMediaType, probRateLimited,
	probInternal, probNotConfigured, probUnavailable, probNoQR, probInvalidCredent,
}

// ProblemTypePrefix prefixes every problem type URI; the code follows.
const ProblemTypePrefix = "urn:zhengxin:problem:"

func bilingual(t report.Text) string { return t.ZH + " / " + t.EN }

// writeProblem answers with kind and a detail in both languages (zh, en may
// be empty: then the title stands alone).
func writeProblem(w http.ResponseWriter, r *http.Request, k problemKind, zh, en string) {
	p := &Problem{
		Type:    ProblemTypePrefix + k.code,
		Title:   bilingual(k.title),
		Status:  k.status,
		Code:    k.code,
		Message: report.Text{ZH: zh, EN: en},
	}
	if zh == "" && en == "" {
		p.Message = k.title
	} else {
		p.Detail = zh + " / " + en
	}
	if r != nil {
		p.Instance = r.URL.Path
	}
	sendProblem(w, p)
}

func sendProblem(w http.ResponseWriter, p *Problem) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
