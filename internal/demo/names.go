package demo

import "github.com/zhaoshang/zhaoshang/domain"

// unitSpec is one of the Jiaxing units the demo registers: the seven counties
// and the two city-level parks the Jiaxing 2024 plan names as responsible
// units (嘉兴经济技术开发区、浙江乍浦经济开发区〔嘉兴港区〕、各县〔市、区〕).
type unitSpec struct {
	code domain.UnitCode
	name string
	kind domain.UnitKind
	// division is the GB/T 2260 code the unit's companies register under,
	// the third to eighth characters of their unified social credit codes.
	division string
	// weight sizes the unit: its share of projects and of the city's targets.
	weight float64
	// form is how strongly the unit performs against its share in a given
	// year (index 0 the first assessment year): below 1 it misses its
	// targets, above 1 it beats them. One unit misses two years running,
	// which the assessment flags for admonishment (Jiaxing 2024 三(一)).
	form [2]float64
	// staff is the unit_staff subject who keeps the unit's ledger.
	staff string
	// place is how the unit is called in prose (negotiation summaries,
	// transfer reasons).
	place string
}

// centreSpec is the city investment-promotion centre (市投促中心), the unit the
// centre's actors act for.
var centreSpec = unitSpec{code: "jxic", name: "嘉兴市投资促进中心", kind: domain.UnitCentre, staff: "jxic.chenjing"}

var unitSpecs = []unitSpec{
	{code: "nanhu", name: "南湖区", kind: domain.UnitCounty, division: "330402", weight: 1.0, form: [2]float64{1.05, 1.1}, staff: "nanhu.wangfang", place: "南湖区"},
	{code: "xiuzhou", name: "秀洲区", kind: domain.UnitCounty, division: "330411", weight: 0.85, form: [2]float64{0.95, 1.0}, staff: "xiuzhou.liqiang", place: "秀洲区"},
	{code: "jiashan", name: "嘉善县", kind: domain.UnitCounty, division: "330421", weight: 1.15, form: [2]float64{1.15, 1.05}, staff: "jiashan.zhoumin", place: "嘉善县"},
	{code: "pinghu", name: "平湖市", kind: domain.UnitCounty, division: "330482", weight: 1.1, form: [2]float64{1.0, 0.95}, staff: "pinghu.xujing", place: "平湖市"},
	{code: "haiyan", name: "海盐县", kind: domain.UnitCounty, division: "330424", weight: 0.75, form: [2]float64{0.6, 0.65}, staff: "haiyan.sunlei", place: "海盐县"},
	{code: "haining", name: "海宁市", kind: domain.UnitCounty, division: "330481", weight: 1.1, form: [2]float64{1.1, 1.15}, staff: "haining.hujun", place: "海宁市"},
	{code: "tongxiang", name: "桐乡市", kind: domain.UnitCounty, division: "330483", weight: 1.0, form: [2]float64{0.9, 1.0}, staff: "tongxiang.zhuyan", place: "桐乡市"},
	{code: "jxetdz", name: "嘉兴经济技术开发区", kind: domain.UnitPark, division: "330402", weight: 1.05, form: [2]float64{1.1, 1.0}, staff: "jxetdz.gaofeng", place: "嘉兴经开区"},
	{code: "zhapu", name: "浙江乍浦经济开发区", kind: domain.UnitPark, division: "330482", weight: 0.9, form: [2]float64{0.85, 1.1}, staff: "zhapu.heli", place: "乍浦经济开发区（嘉兴港区）"},
}

// chainSpec is an industry chain the Jiaxing 2024 plan names (二(二)4: 化工新
// 材料、时尚 as traditional strengths; 新一代网络通信、光伏新能源、新能源汽车 as
// strategic emerging industries; 氢能、核医药、空天信息 as future industries;
// 现代物流、光电智能、生命健康 around the airport economy zone; 软件信息、数字贸易
// among the service industries), plus 集成电路 and 生物医药 from the Shenzhen plan
// (000 一(三)). weight is its share of projects; words make company names;
// products make project names.
type chainSpec struct {
	name     string
	weight   float64
	words    []string
	products []string
	// foreign is the share of its investors that are foreign.
	foreign float64
}

var chainSpecs = []chainSpec{
	{"光伏新能源", 1.3, []string{"光能", "新能源", "光电", "储能"}, []string{"年产10GW高效光伏组件", "N型TOPCon电池片", "大型储能系统集成", "光伏逆变器", "分布式光伏运营总部"}, 0.2},
	{"新能源汽车", 1.3, []string{"汽车", "动力", "电驱", "汽车电子"}, []string{"动力电池", "电驱动系统", "汽车热管理系统", "一体化压铸车身", "智能座舱电子"}, 0.35},
	{"化工新材料", 1.2, []string{"新材料", "化学", "高分子", "化工"}, []string{"高端聚烯烃", "电子级化学品", "可降解材料", "高性能工程塑料", "特种涂料"}, 0.45},
	{"集成电路", 1.0, []string{"半导体", "微电子", "芯片"}, []string{"功率半导体", "12英寸晶圆", "芯片封装测试", "MEMS传感器", "化合物半导体"}, 0.3},
	{"新一代网络通信", 0.8, []string{"通信", "网络", "光通信"}, []string{"光通信模块", "5G基站射频器件", "数据中心光互连", "卫星通信终端"}, 0.2},
	{"高端装备", 0.9, []string{"装备", "精工", "智能装备", "机械"}, []string{"工业机器人", "精密数控机床", "高端轴承", "精密减速器"}, 0.4},
	{"时尚产业", 0.7, []string{"服饰", "纺织", "时尚"}, []string{"高端时装智能制造", "功能性面料", "经编新材料", "品牌总部及设计中心"}, 0.15},
	{"生物医药", 0.7, []string{"生物", "医药", "生命科学"}, []string{"创新药研发及产业化", "生物制剂", "高端医疗器械", "体外诊断试剂"}, 0.35},
	{"生命健康", 0.5, []string{"健康", "医疗", "康养"}, []string{"康复医疗器械", "营养健康食品", "医疗耗材"}, 0.2},
	{"氢能", 0.5, []string{"氢能", "氢能源"}, []string{"燃料电池电堆", "制氢装备", "加氢站网络", "储氢材料"}, 0.3},
	{"核医药", 0.25, []string{"同位素", "核医疗"}, []string{"医用同位素", "放射性药物"}, 0.3},
	{"空天信息", 0.35, []string{"航天", "卫星", "空天"}, []string{"商业卫星制造", "卫星遥感应用", "航空零部件"}, 0.2},
	{"光电智能", 0.5, []string{"光电", "智能科技", "激光"}, []string{"激光装备", "光学镜头模组", "智能传感器"}, 0.25},
	{"现代物流", 0.45, []string{"物流", "供应链"}, []string{"智慧物流园", "冷链物流中心", "跨境电商物流枢纽"}, 0.2},
	{"软件信息", 0.45, []string{"软件", "信息技术", "数据"}, []string{"工业软件研发中心", "算力中心", "数据要素产业园"}, 0.15},
	{"数字贸易", 0.3, []string{"数字科技", "跨境贸易"}, []string{"数字贸易总部", "跨境电商产业园"}, 0.2},
}

// Company names are made up from these syllables so that no real company is
// said to have invested anywhere.
var (
	stemFirst  = []string{"华", "恒", "远", "瑞", "博", "天", "鼎", "新", "嘉", "卓", "领", "晶", "鑫", "创", "泰", "盛", "睿", "宏", "凯", "云", "星", "协", "同", "明", "振", "永", "澜", "清", "启", "合"}
	stemSecond = []string{"拓", "信", "航", "丰", "能", "源", "晟", "诚", "越", "峰", "邦", "辉", "达", "科", "微", "驰", "禾", "川", "曜", "途", "安", "宸", "弘", "阳", "润", "翔", "岳", "衡", "芯", "研"}
	forms      = []string{"有限公司", "股份有限公司", "集团有限公司", "科技有限公司", "控股集团有限公司"}
	sOEForms   = []string{"集团有限公司", "集团股份有限公司"}
	// foreignNames are fictional foreign groups, by country.
	foreignNames = []struct{ country, name, form string }{
		{"德国", "莱茵霍夫", "集团"}, {"德国", "诺德施塔特", "股份公司"}, {"德国", "维斯巴赫", "集团"},
		{"日本", "富岳", "株式会社"}, {"日本", "东和精工", "株式会社"}, {"日本", "丸之内", "株式会社"},
		{"韩国", "大韩星", "株式会社"}, {"韩国", "汉江", "集团"}, {"美国", "韦斯特布里奇", "公司"},
		{"美国", "阿帕拉契", "集团"}, {"法国", "圣洛朗", "集团"}, {"荷兰", "范德堡", "集团"},
		{"瑞士", "阿尔卑斯", "集团"}, {"新加坡", "狮城", "控股有限公司"}, {"中国香港", "维港", "控股有限公司"},
		{"意大利", "托斯卡纳", "集团"}, {"瑞典", "北极星", "集团"}, {"英国", "泰晤士", "集团"},
	}
	// origins are where domestic investors come from; the divisions are
	// their unified social credit codes' registration places.
	origins = []struct{ name, division string }{
		{"上海", "310115"}, {"江苏苏州", "320505"}, {"广东深圳", "440300"}, {"北京", "110108"},
		{"浙江杭州", "330106"}, {"浙江宁波", "330212"}, {"安徽合肥", "340104"}, {"四川成都", "510107"},
		{"山东青岛", "370212"}, {"福建厦门", "350206"}, {"湖北武汉", "420106"}, {"江苏南京", "320114"},
	}
	surnames   = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "朱", "马", "胡", "郭", "林", "何", "高", "沈"}
	givenNames = []string{"建国", "海涛", "丽华", "伟", "静", "明", "志强", "晓燕", "俊", "磊", "敏", "雪梅", "立新", "涛", "红", "斌", "芳", "勇", "婷", "浩"}
	// officialTitles are lead officials of projects (责任领导).
	officialTitles = []string{"区长", "常务副区长", "副区长", "管委会主任", "管委会副主任", "投促局局长"}
	// cityLeaders are the lead leaders (牵头领导) of supervision orders.
	cityLeaders = []string{"市委常委、副市长", "副市长", "市政府秘书长", "市投促中心主任"}
	referrers   = []string{"嘉兴市驻上海招商联络处", "长三角产业合作促进会", "南湖基金小镇", "浙江清华长三角研究院", "嘉兴市全球招商合作伙伴", "市工商联", "某知名中介机构"}
	venues      = []string{"嘉兴市重大项目集中签约活动", "中国（嘉兴）全球招商大会", "长三角投资合作洽谈会", "进博会嘉兴城市推介会", "市政府常务会议室"}
)

// Sentences. Each takes its variables from the project so every summary
// reads as a record of this project, not of a template.
var (
	negotiationTopics = []string{
		"项目选址、用地规模及供地方式",
		"投资强度、亩均税收及达产时序",
		"能耗指标、排污权及配套基础设施",
		"产业扶持政策、人才政策及设备补助",
		"厂房代建方案及分期建设计划",
		"股权结构、注册资本及资金到位安排",
		"合同主要条款及签约时间",
	}
	negotiationOutcomes = []string{
		"双方就主要条件达成初步共识，约定两周内提交书面方案。",
		"投资方表示将尽快上报集团决策委员会。",
		"对用地指标提出新的要求，需进一步协调。",
		"投资方对营商环境表示满意，拟安排实地考察。",
		"明确项目专班及对接人，建立周调度机制。",
	}
	amendIncrease = []string{"投资方追加二期投资，扩大产能", "项目建设规模调整，新增研发中心", "增资扩股，引入战略投资者"}
	amendDecrease = []string{"市场需求变化，一期建设规模缩减", "设备选型调整，投资概算下调"}
	transferWhy   = []string{
		"投资方选址意向调整至%s，经市投促中心协调流转",
		"项目用地需求较大，%s具备连片净地，经市投促中心协调流转",
		"项目与%s主导产业链更加契合，经市招大引强联席会议研究流转",
	}
)

// terminationTexts explains each termination cause in the ledger's words.
var terminationTexts = map[domain.TerminationCause]string{
	domain.CausePolicyChange:     "受国家产业政策调整影响，项目准入条件发生变化，投资方决定终止。",
	domain.CauseMarketChange:     "行业产能过剩、产品价格大幅下跌，投资方暂停扩产计划。",
	domain.CauseForceMajeure:     "受不可抗力影响，投资方海外总部资金链受阻，项目无法推进。",
	domain.CauseInvestorDecision: "投资方集团战略调整，收缩国内投资布局。",
	domain.CauseSubjectiveFault:  "前期尽职调查不充分，项目用地条件未落实即对外签约。",
	domain.CauseOther:            "投资方与属地在股权合作方式上未能达成一致。",
}
