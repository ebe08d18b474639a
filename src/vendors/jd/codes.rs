//! JD's code vocabulary: system-level envelope codes (spec §4.1) and business codes carried in
//! `result.status_code` / `result.code` (§4.2), with their exact messages and names.

/// A system-level envelope code: `code` and `msg` with no `result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemCode {
    /// The code, sent as a string.
    pub code: &'static str,
    /// The exact `msg`.
    pub msg: &'static str,
}

/// Success (and business errors, which are answered inside a success envelope).
pub const OK: SystemCode = SystemCode {
    code: "10000",
    msg: "查询成功",
};
/// Routing errors (HTTP 404 / 405).
pub const NO_SUCH_API: SystemCode = SystemCode {
    code: "10003",
    msg: "不存在相应的数据信息",
};
/// Body over 5 MiB (HTTP 413).
pub const GATEWAY_FAILURE: SystemCode = SystemCode {
    code: "10030",
    msg: "调用网关失败，请与京东智联云联系",
};
/// Daily quota used up.
pub const DAILY_QUOTA: SystemCode = SystemCode {
    code: "10040",
    msg: "超过每天限量，请明天继续",
};
/// `jd.qps_limit` exceeded.
pub const QPS_LIMIT: SystemCode = SystemCode {
    code: "10043",
    msg: "超过QPS限额，请降低调用频率或与京东智联云联系",
};
/// Strict mode: clock skew over 300 s.
pub const SKEW: SystemCode = SystemCode {
    code: "10045",
    msg: "timestamp参数无效，请检查timestamp距离当前时间是否超过5分钟",
};
/// Strict mode: malformed `x-jdcloud-date`.
pub const BAD_DATE: SystemCode = SystemCode {
    code: "10046",
    msg: "timestamp参数格式错误",
};
/// Authentication failure.
pub const BAD_SIGNATURE: SystemCode = SystemCode {
    code: "10047",
    msg: "请求签名sign无效，请检查签名信息",
};

/// Every system code (including those only faults produce), for fault rules.
pub const SYSTEM_CODES: &[SystemCode] = &[
    OK,
    SystemCode {
        code: "10001",
        msg: "错误的请求appkey",
    },
    NO_SUCH_API,
    SystemCode {
        code: "10004",
        msg: "URL上appkey参数不能为空",
    },
    SystemCode {
        code: "10010",
        msg: "接口需要付费，请充值",
    },
    SystemCode {
        code: "10020",
        msg: "系统繁忙，请稍后再试",
    },
    GATEWAY_FAILURE,
    DAILY_QUOTA,
    SystemCode {
        code: "10041",
        msg: "URL上timestamp参数不能为空",
    },
    SystemCode {
        code: "10042",
        msg: "URL上sign参数不能为空",
    },
    QPS_LIMIT,
    SystemCode {
        code: "10044",
        msg: "集群QPS超限额，请与京东智联云联系",
    },
    SKEW,
    BAD_DATE,
    BAD_SIGNATURE,
    SystemCode {
        code: "10048",
        msg: "无接口权限，请下单购买",
    },
    SystemCode {
        code: "10050",
        msg: "用户已被禁用",
    },
    SystemCode {
        code: "10060",
        msg: "发布方设置调用权限，请联系发布方",
    },
    SystemCode {
        code: "11010",
        msg: "发布方接口调用异常，请稍后再试",
    },
    SystemCode {
        code: "11030",
        msg: "发布方接口返回格式有误",
    },
];

/// A business code and its NAME (the `message` of a business error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Business {
    /// The numeric code.
    pub code: u32,
    /// Its NAME.
    pub name: &'static str,
}

macro_rules! business {
    ($($konst:ident = $code:literal;)*) => {
        $(
            #[doc = concat!("Business code ", stringify!($code), " ", stringify!($konst), ".")]
            pub const $konst: Business = Business { code: $code, name: stringify!($konst) };
        )*
        /// Every business code, for fault rules.
        pub const BUSINESS_CODES: &[Business] = &[$($konst),*];
        /// Every business code's number as text, for fault rules.
        const BUSINESS_NUMBERS: &[&str] = &[$(stringify!($code)),*];
    };
}

business! {
    TASK_NOT_EXIST = 1004;
    NO_RELATIVE_COLLECTION = 1030;
    NO_RELATIVE_IMAGE = 1031;
    REPEAT_IMAGE_NAME_IN_DB = 1032;
    REPEAT_IMAGE_NAME_IN_PARAM = 1033;
    INVALID_PARAM_TOP_K = 2001;
    IMAGE_TOO_SMALL = 2005;
    BROKEN_BASE64_OR_URL = 2006;
    IMAGE_TOO_LARGE = 2007;
    INVALID_DOCS = 2008;
    INVALID_COLLECTION_NAME = 2010;
    INVALID_IMAGE_INFO = 2011;
    INVALID_IMAGE_NAME = 2012;
    COLLECTION_COUNT_EXCEEDS_LIMIT = 2013;
    PARAMS_LENGTH_EXCEEDS_LIMIT = 2014;
    COLLECTION_DOES_NOT_EXIST = 2015;
    INVALID_PRODUCT_LIST = 3000;
    PRODUCT_EMPTY = 3001;
    DUPLICATE_PRODUCT = 3002;
    INVALID_PRODUCT_ID = 3003;
    INVALID_PRODUCT_NAME = 3004;
    INVALID_PRODUCT_CATEGORY = 3005;
    EXISTING_PRODUCT = 3006;
    NOT_EXISTING_PRODUCT = 3007;
    INSERT_PRODUCT_ERROR = 3008;
    NO_MATCHED_PRODUCT = 3009;
    INVALID_IMAGE_LIST = 3010;
    EMPTY_IMAGE_LIST = 3011;
    DUPLICATE_IMAGE = 3012;
    INVALID_IMAGE_ID = 3013;
    INVALID_IMAGE_CONTENT = 3014;
    INVALID_IMAGE_INFO_PRODUCT = 3015;
    IMAGE_NUM_EXCEED_TOTAL_LIMIT = 3016;
    IMAGE_NUM_EXCEED_PER_PRODUCT_LIMIT = 3017;
    INSERT_IMAGE_ERROR = 3018;
    NO_VALID_IMAGE = 3019;
    INVALID_TASK_ID = 3021;
    QUERY_TASK_STATUS_ERROR = 3030;
    SEARCH_PRODUCT_IMAGE_ERROR = 3031;
    DELETE_IMAGE_ERROR = 3032;
    QUERY_IMAGE_INFO_ERROR = 3033;
    DELETE_COLLECTION_ERROR = 3034;
    INVALID_SEARCH_TOPK = 3040;
    SEARCH_TOPK_EXCEED_LIMIT = 3041;
    INVALID_IMAGE_ID_LIST = 3050;
    EMPTY_IMAGE_ID_LIST = 3051;
    DUPLICATE_IMAGE_ID = 3052;
    NO_VALID_IMAGE_ID = 3053;
    NOT_SUPPORT_IMAGE = 3054;
    PRODUCT_NUM_EXCEED_LIMIT = 3055;
    IMAGE_SIZE_EXCEED_LIMIT = 3056;
    INTERNAL_SERVER_ERROR = 5000;
    INVALID_PARAMETER_JSON = 5001;
}

impl Business {
    /// The NAME on the wire (3015 shares INVALID_IMAGE_INFO with 2011).
    pub fn wire_name(self) -> &'static str {
        if self.code == 3015 {
            "INVALID_IMAGE_INFO"
        } else {
            self.name
        }
    }
}

/// Looks a business code up by NAME or number.
pub fn business_by_name(name: &str) -> Option<Business> {
    BUSINESS_CODES
        .iter()
        .copied()
        .find(|b| b.wire_name() == name || b.name == name || b.code.to_string() == name)
}

/// Every code a fault rule may name: system codes by number, business codes by NAME and by number.
pub fn fault_code_names() -> &'static [&'static str] {
    static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let system = SYSTEM_CODES.iter().filter(|s| *s != &OK).map(|s| s.code);
        let names = BUSINESS_CODES.iter().map(|b| b.name);
        system
            .chain(names)
            .chain(BUSINESS_NUMBERS.iter().copied())
            .collect()
    })
}

/// Looks a system code up by its code string.
pub fn system_by_code(code: &str) -> Option<SystemCode> {
    SYSTEM_CODES.iter().copied().find(|s| s.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_rules_can_name_system_and_business_codes() {
        let names = fault_code_names();
        for code in [
            "10043",
            "11010",
            "NO_RELATIVE_IMAGE",
            "1031",
            "INVALID_IMAGE_INFO",
            "3015",
        ] {
            assert!(names.contains(&code), "{code}");
        }
        assert!(!names.contains(&"10000"));
        assert_eq!(
            business_by_name("3015").map(|b| b.wire_name()),
            Some("INVALID_IMAGE_INFO")
        );
        assert_eq!(
            business_by_name("NO_RELATIVE_IMAGE").map(|b| b.code),
            Some(1031)
        );
    }
}
