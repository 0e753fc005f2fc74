package license

// zlibDict is the preset zlib dictionary (RFC 1950 FDICT) of "ZX1:" and
// "ZXP1:" payloads: words that recur in Chinese licenses, and the CBOR
// bytes that open every payload. Deflate finds matches by distance, so the
// likeliest strings come last (closest to the data). It is part of the
// format: changing it needs a new prefix. docs/formats.md gives its SM3.
const zlibDict = "" +
	// Common place and organisation words (UTF-8).
	"中华人民共和国北京市天津市上海市重庆市河北省山西省内蒙古自治区辽宁省吉林省黑龙江省江苏省浙江省安徽省福建省江西省山东省河南省湖北省湖南省广东省广西壮族自治区海南省四川省贵州省云南省西藏自治区陕西省甘肃省青海省宁夏回族自治区新疆维吾尔自治区" +
	"杭州南京广州深圳成都武汉西安苏州郑州长沙合肥济南青岛宁波厦门福州沈阳大连哈尔滨昆明南宁石家庄太原南昌贵阳兰州海口乌鲁木齐呼和浩特" +
	"朝阳区海淀区东城区西城区丰台区浦东新区黄浦区徐汇区静安区西湖区上城区拱墅区滨江区余杭区萧山区天河区越秀区福田区南山区鼓楼区玄武区" +
	"公安局交通警察支队公安交通管理局车辆管理所民政局婚姻登记处自然资源和规划局不动产登记中心不动产权第人民政府行政审批服务局" +
	"结婚证字离婚证字京沪浙粤苏" +
	// Business scope boilerplate (经营范围).
	"一般项目：许可项目：（依法须经批准的项目，经相关部门批准后方可开展经营活动，具体经营项目以审批结果为准）（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）" +
	"技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发；信息系统集成服务；信息技术咨询服务；数据处理和存储支持服务；网络技术服务；" +
	"企业管理咨询；市场营销策划；会议及展览服务；广告设计、代理；广告制作；广告发布；组织文化艺术交流活动；日用百货销售；办公用品销售；电子产品销售；" +
	"计算机软硬件及辅助设备零售；货物进出口；技术进出口；餐饮管理；餐饮服务；食品销售；食品经营；预包装食品（含冷藏冷冻食品）销售；散装食品（含冷藏冷冻食品）销售；" +
	"热食类食品制售；冷食类食品制售；生食类食品制售；糕点类食品制售；自制饮品制售；特殊食品销售；保健食品销售；婴幼儿配方乳粉销售；" +
	"食品销售经营者餐饮服务经营者单位食堂中型餐馆小型餐馆饮品店" +
	// Addresses.
	"街道社区村镇乡大道路街巷弄号楼栋单元层室幢号院小区大厦中心广场花园工业园区科技园开发区" +
	// Names.
	"有限公司有限责任公司股份有限公司分公司集团科技信息技术网络软件智能数据电子商务贸易实业发展投资管理咨询服务餐饮食品文化传媒建设工程" +
	"个体工商户个人独资企业合伙企业" +
	"市场监督管理局分局" +
	// CBOR that opens a license QR body: array(5), COSE_Sign1 tag 18,
	// array(4), protected header {1: -65537, 4: kid(8)}.
	"\x85\xd2\x84\x51\xa2\x01\x3a\x00\x01\x00\x00\x04\x48"

// ZlibDictionary returns the preset zlib dictionary of QR payloads, for
// other implementations and tests.
func ZlibDictionary() string { return zlibDict }
