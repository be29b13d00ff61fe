from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.content_filter_role import ContentFilterRole
from ..types import UNSET, Unset

T = TypeVar("T", bound="ContentFilter")


@_attrs_define
class ContentFilter:
    """
    Attributes:
        role (ContentFilterRole | Unset): 安全生效环节，包括 `role = assistant` 模型推理，`role = user` 用户输入，`role = history` 历史上下文
        level (int | Unset): 严重程度 `level 0-3`，`level 0`表示最严重，`3`表示轻微
    """

    role: ContentFilterRole | Unset = UNSET
    level: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value

        level = self.level

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if role is not UNSET:
            field_dict["role"] = role
        if level is not UNSET:
            field_dict["level"] = level

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _role = d.pop("role", UNSET)
        role: ContentFilterRole | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = ContentFilterRole(_role)

        level = d.pop("level", UNSET)

        content_filter = cls(
            role=role,
            level=level,
        )

        content_filter.additional_properties = d
        return content_filter

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
